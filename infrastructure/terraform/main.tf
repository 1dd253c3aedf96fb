# Names and tags shared by every file of this stack.
locals {
  bucket_name = var.bucket_name != "" ? var.bucket_name : "${var.name}-assets-${data.aws_caller_identity.current.account_id}"
  azs         = slice(data.aws_availability_zones.available.names, 0, 3)

  tags = {
    Project   = var.name
    ManagedBy = "terraform"
    Source    = "infrastructure/terraform"
  }
}
