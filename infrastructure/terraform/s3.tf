# The asset bucket (STORAGE=s3). The runtime writes each asset version under its own key and
# then commits the pointer in the lineage store, so objects are never overwritten in normal
# operation; versioning protects against a mistaken delete or overwrite all the same.
module "s3_bucket" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "~> 4.2"

  bucket        = local.bucket_name
  force_destroy = false

  versioning = {
    enabled = true
  }

  # SSE-S3: encrypted at rest with no KMS key policy to grant, so the IRSA role needs
  # S3 permissions only.
  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm = "AES256"
      }
    }
  }

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true

  control_object_ownership = true
  object_ownership         = "BucketOwnerEnforced"

  attach_deny_insecure_transport_policy = true

  lifecycle_rule = [
    {
      id      = "expire-old-versions"
      enabled = true
      filter  = {}

      # Versions replaced or deleted (by `materialize prune`) are kept this long for recovery.
      noncurrent_version_expiration = {
        noncurrent_days = var.noncurrent_version_days
      }
      # Parts of a multipart upload that was cut off (a pod killed mid-upload).
      abort_incomplete_multipart_upload_days = 7
      expiration = {
        expired_object_delete_marker = true
      }
    },
  ]
}
