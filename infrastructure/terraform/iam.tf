# The role the pjm-lmp ServiceAccount assumes (IRSA). Least privilege: it may list, read,
# write and delete objects under s3://<bucket>/<s3_prefix>/ and nothing else in AWS.
data "aws_iam_policy_document" "assets" {
  statement {
    sid       = "ListOwnPrefix"
    actions   = ["s3:ListBucket"]
    resources = [module.s3_bucket.s3_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.s3_prefix}/*"]
    }
  }

  statement {
    sid = "ReadWriteOwnPrefix"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${module.s3_bucket.s3_bucket_arn}/${var.s3_prefix}/*"]
  }
}

resource "aws_iam_policy" "assets" {
  name        = "${var.name}-assets"
  description = "Read and write s3://${local.bucket_name}/${var.s3_prefix}/ only"
  policy      = data.aws_iam_policy_document.assets.json
}

module "serving_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "~> 5.48"

  role_name = "${var.name}-serving"

  role_policy_arns = {
    assets = aws_iam_policy.assets.arn
  }

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${var.k8s_namespace}:${var.k8s_service_account}"]
    }
  }
}
