# The lineage store of the worker pool: PostgreSQL on RDS, in the VPC's private subnets,
# reachable on 5432 from the EKS nodes' security group only (the pods use the node security
# group: no security groups for pods here). The master password is generated and kept by RDS in
# AWS Secrets Manager (manage_master_user_password), never in this configuration; the eks
# overlay's Secret pjm-postgres takes the URL built from it (infrastructure/README.md).
resource "aws_db_subnet_group" "lineage" {
  name        = "${var.name}-lineage"
  description = "Private subnets of the ${var.name} lineage store"
  subnet_ids  = module.vpc.private_subnets
}

resource "aws_security_group" "lineage" {
  name        = "${var.name}-lineage"
  description = "PostgreSQL lineage store: 5432 from the EKS nodes only"
  vpc_id      = module.vpc.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "lineage_from_nodes" {
  security_group_id            = aws_security_group.lineage.id
  description                  = "PostgreSQL from the EKS node group (CronJob, workers, server)"
  referenced_security_group_id = module.eks.node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_db_instance" "lineage" {
  identifier     = "${var.name}-lineage"
  engine         = "postgres"
  engine_version = var.rds_engine_version
  instance_class = var.rds_instance_class

  allocated_storage     = var.rds_allocated_storage_gb
  max_allocated_storage = var.rds_allocated_storage_gb * 4
  storage_type          = "gp3"
  storage_encrypted     = true

  db_name                     = var.rds_database
  username                    = "pjm"
  manage_master_user_password = true

  db_subnet_group_name   = aws_db_subnet_group.lineage.name
  vpc_security_group_ids = [aws_security_group.lineage.id]
  publicly_accessible    = false
  multi_az               = var.rds_multi_az

  backup_retention_period   = 7
  deletion_protection       = var.rds_deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-lineage-final"
  copy_tags_to_snapshot     = true

  auto_minor_version_upgrade = true
  apply_immediately          = false
}
