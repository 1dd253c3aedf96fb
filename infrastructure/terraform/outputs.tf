# What the Kubernetes eks overlay needs. `npx tsx infrastructure/k8s/terraform-env.ts` copies
# these into infrastructure/k8s/overlays/eks/terraform.env under the upper-case names.

output "cluster_name" {
  description = "EKS cluster name: aws eks update-kubeconfig --name <this>."
  value       = module.eks.cluster_name
}

output "aws_region" {
  description = "Region of the cluster and the bucket (S3_REGION)."
  value       = var.region
}

output "s3_bucket" {
  description = "Asset bucket (S3_BUCKET)."
  value       = module.s3_bucket.s3_bucket_id
}

output "s3_prefix" {
  description = "Key prefix the application may use (S3_PREFIX)."
  value       = var.s3_prefix
}

output "serving_role_arn" {
  description = "IAM role for the pjm-lmp ServiceAccount (eks.amazonaws.com/role-arn)."
  value       = module.serving_irsa.iam_role_arn
}

output "ecr_repository_url" {
  description = "Where to push the image: docker push <this>:<tag>."
  value       = module.ecr.repository_url
}
