# Inputs of the PJM LMP cloud stack. Every default is the one the walk-through in
# infrastructure/README.md uses; the Kubernetes manifests depend on the marked ones.

variable "region" {
  description = "AWS region of every resource."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Prefix of every resource name; also the EKS cluster name and the ECR repository name."
  type        = string
  default     = "pjm-lmp"
}

variable "cluster_version" {
  description = "Kubernetes version of the EKS control plane (CronJob timeZone needs 1.27 or later)."
  type        = string
  default     = "1.31"
}

variable "vpc_cidr" {
  description = "Address range of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "node_instance_types" {
  description = "EC2 instance types of the managed node group. All pods that mount the lineage store run on one node, so one node must fit the serving replicas and a materialization."
  type        = list(string)
  default     = ["t3.large"]
}

variable "node_min_size" {
  type    = number
  default = 1
}

variable "node_max_size" {
  type    = number
  default = 3
}

variable "node_desired_size" {
  type    = number
  default = 2
}

variable "bucket_name" {
  description = "Name of the asset bucket. Empty: <name>-assets-<account id>, unique per account."
  type        = string
  default     = ""
}

variable "s3_prefix" {
  description = "Key prefix of every object the application writes. The IRSA role may touch nothing outside it. Must equal S3_PREFIX in the eks overlay (it is copied from the output of the same name)."
  type        = string
  default     = "pjm-lmp"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]*$", var.s3_prefix))
    error_message = "s3_prefix must be one path segment (lower-case letters, digits, '.', '_' or '-'), without slashes."
  }
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object version is kept before S3 expires it."
  type        = number
  default     = 30
}

variable "k8s_namespace" {
  description = "Namespace of the workloads; must match `namespace:` in infrastructure/k8s/base/kustomization.yaml."
  type        = string
  default     = "pjm"
}

variable "k8s_service_account" {
  description = "ServiceAccount of the workloads; must match infrastructure/k8s/base/serviceaccount.yaml."
  type        = string
  default     = "pjm-lmp"
}

variable "rds_engine_version" {
  description = "PostgreSQL major version of the lineage store (the tests run Debian's PostgreSQL; 15 and later are supported)."
  type        = string
  default     = "16"
}

variable "rds_instance_class" {
  description = "Instance class of the lineage store. A backfill by N workers holds about 2 connections per worker and coordinator."
  type        = string
  default     = "db.t4g.medium"
}

variable "rds_allocated_storage_gb" {
  description = "Initial storage of the lineage store (it grows up to four times this on its own)."
  type        = number
  default     = 20
}

variable "rds_database" {
  description = "Database of the lineage store; the path of LINEAGE_STORE in the Secret pjm-postgres."
  type        = string
  default     = "pjm"
}

variable "rds_multi_az" {
  description = "A standby in a second availability zone (failover in about a minute; doubles the cost)."
  type        = bool
  default     = false
}

variable "rds_deletion_protection" {
  description = "Refuse to delete the lineage store (set false, apply, then destroy to remove it)."
  type        = bool
  default     = true
}
