// Validates Kubernetes objects against the API's OpenAPI schemas, through the generated
// validators of the kubernetes-models package (types, required fields, enums). Note that
// those schemas accept unknown fields: a misspelt optional field is not caught here, which
// is why the tests also assert the fields they rely on.
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { StorageClass } from 'kubernetes-models/storage.k8s.io/v1';
import type { K8sObject } from './kustomize.ts';

type Model = new (data: never) => { validate(): void };

/** The kinds the manifests may contain. A new kind is added here with its model. */
const MODELS: Readonly<Record<string, Model>> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/CronJob': CronJob,
  'batch/v1/Job': Job,
  'storage.k8s.io/v1/StorageClass': StorageClass,
};

/** The schema violations of `object` as one message, or null when it is valid. */
export function schemaErrors(object: K8sObject): string | null {
  const key = `${object.apiVersion}/${object.kind}`;
  const model = MODELS[key];
  if (!model) {
    return `${key} ${object.metadata.name}: no schema known for this kind; add its kubernetes-models class to infrastructure/checks/k8s-schema.ts.`;
  }
  try {
    new model(object as never).validate();
    return null;
  } catch (error) {
    return `${key} ${object.metadata.name}: ${(error as Error).message}`;
  }
}
