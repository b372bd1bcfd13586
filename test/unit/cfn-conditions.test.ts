import { describe, expect, it } from 'vitest';
import { deployedTemplate, evaluateConditions, type Template } from '../support/cfn-conditions.ts';

const template: Template = {
  Parameters: { Mode: { Default: 'two' } },
  Conditions: {
    On: { 'Fn::Not': [{ 'Fn::Equals': ['true', 'false'] }] },
    Two: { 'Fn::Equals': [{ Ref: 'Mode' }, 'two'] },
    OnAndTwo: { 'Fn::And': [{ Condition: 'On' }, { Condition: 'Two' }] },
    Neither: { 'Fn::Or': [{ 'Fn::Equals': ['a', 'b'] }, { 'Fn::Not': [{ Condition: 'On' }] }] },
  },
  Resources: {
    Always: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: { 'Fn::If': ['Neither', 'x', 'y'] },
        Tags: [
          { 'Fn::If': ['Neither', { Key: 'k', Value: 'v' }, { Ref: 'AWS::NoValue' }] },
          { Key: 'a', Value: 'b' },
        ],
        DelaySeconds: { 'Fn::If': ['Two', { Ref: 'AWS::NoValue' }, 5] },
      },
    },
    OnlyWhenOn: { Type: 'AWS::SQS::Queue', Condition: 'OnAndTwo' },
    Never: { Type: 'AWS::SQS::Queue', Condition: 'Neither' },
  },
  Outputs: { Hidden: { Condition: 'Neither', Value: 'z' }, Shown: { Value: { Ref: 'Always' } } },
};

describe('the deployed view of a template', () => {
  it('evaluates Equals, Not, And, Or, Condition and parameter defaults', () => {
    const condition = evaluateConditions(template);
    expect(['On', 'Two', 'OnAndTwo', 'Neither'].map(condition)).toEqual([true, true, true, false]);
    expect(evaluateConditions(template, { Mode: 'one' })('Two')).toBe(false);
  });

  it('drops resources and outputs whose condition is false, and resolves Fn::If and AWS::NoValue', () => {
    const deployed = deployedTemplate(template);
    expect(Object.keys(deployed.Resources)).toEqual(['Always', 'OnlyWhenOn']);
    expect(deployed.Resources.Always?.Properties).toEqual({
      QueueName: 'y',
      Tags: [{ Key: 'a', Value: 'b' }],
    });
    expect(Object.keys(deployed.Outputs ?? {})).toEqual(['Shown']);
  });

  it('refuses what it cannot evaluate offline', () => {
    const unknown = { ...template, Conditions: { X: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'x'] } } };
    expect(() => evaluateConditions(unknown)).toThrow(/cannot evaluate/);
  });
});
