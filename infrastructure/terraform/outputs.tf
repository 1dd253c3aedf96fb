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

output "rds_endpoint" {
  description = "Host of the PostgreSQL lineage store: the HOST of LINEAGE_STORE in the Secret pjm-postgres."
  value       = aws_db_instance.lineage.address
}

output "rds_port" {
  description = "Port of the lineage store."
  value       = aws_db_instance.lineage.port
}

output "rds_database" {
  description = "Database of the lineage store: the path of LINEAGE_STORE."
  value       = aws_db_instance.lineage.db_name
}

output "rds_username" {
  description = "Master user of the lineage store: the USER of LINEAGE_STORE."
  value       = aws_db_instance.lineage.username
}

output "rds_master_user_secret_arn" {
  description = "Secrets Manager secret holding the master password: aws secretsmanager get-secret-value --secret-id <this>."
  value       = aws_db_instance.lineage.master_user_secret[0].secret_arn
}
