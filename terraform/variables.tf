# Settings of the GCP deployment (docs/gcp.md, "Settings"). Give them in a tfvars file
# (terraform/terraform.tfvars, or the file npm run deploy:gcp is given) or as TF_VAR_<name>.

variable "project" {
  description = "The Google Cloud project everything is deployed into (and the Firestore database lives in)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project))
    error_message = "project must be a Google Cloud project id (6-30 lower-case letters, digits, -)."
  }
}

variable "region" {
  description = "Region of the functions, the workflow, the scheduler jobs and the source bucket."
  type        = string
  default     = "us-central1"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (functions, service accounts, secrets, workflow, jobs): two deployments in one project need different ones."
  type        = string
  default     = "cloudops"
  validation {
    # 3-12: the longest function name (<prefix>-gcp-monitoring-timeseries-query) stays within Cloud Run's 49 characters.
    condition     = can(regex("^[a-z][a-z0-9-]{1,10}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-12 lower-case letters, digits or -, starting with a letter."
  }
}

variable "firestore_database" {
  description = "Id of the Firestore database terraform creates (FIRESTORE_DATABASE)."
  type        = string
  default     = "cloudops-mcp"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,62}$", var.firestore_database))
    error_message = "firestore_database must be 4-63 lower-case letters, digits or - (not (default), which terraform would not create)."
  }
}

variable "firestore_location" {
  description = "Location of the Firestore database (a region or a multi-region such as nam5); null: var.region."
  type        = string
  default     = null
}

variable "firestore_collection" {
  description = "Root collection of the Store's items (FIRESTORE_COLLECTION)."
  type        = string
  default     = "cloudops"
}

variable "log_level" {
  description = "LOG_LEVEL of every function."
  type        = string
  default     = "info"
  validation {
    condition     = contains(["trace", "debug", "info", "warn", "error", "fatal", "silent"], var.log_level)
    error_message = "log_level must be one of trace, debug, info, warn, error, fatal, silent."
  }
}

variable "audit_retention_days" {
  description = "How long audit records are kept (AUDIT_RETENTION_DAYS); Firestore's TTL deletes them after."
  type        = number
  default     = 90
}

variable "toolsets" {
  description = "TOOLSETS: the toolsets offered (comma separated); null: all deployed ones."
  type        = string
  default     = null
}

variable "policy_file" {
  description = "Path of a guardrail policy file (YAML) put into every bundle as policy.yaml (POLICY_FILE); null: the built-in policy."
  type        = string
  default     = null
}

variable "oauth_issuer" {
  description = "OAUTH_ISSUER of the gateway (and server_info); null: API keys only."
  type        = string
  default     = null
}

variable "oauth_jwks_url" {
  description = "OAUTH_JWKS_URL (required with oauth_issuer)."
  type        = string
  default     = null
}

variable "oauth_audience" {
  description = "OAUTH_AUDIENCE; null: the MCP URL."
  type        = string
  default     = null
}

variable "oauth_scope_roles" {
  description = "OAUTH_SCOPE_ROLES (scope or group -> roles mapping, as the gateway reads it)."
  type        = string
  default     = null
}

variable "allowed_origins" {
  description = "ALLOWED_ORIGINS of the gateway (comma separated browser origins); null: none."
  type        = string
  default     = null
}

variable "tool_timeout_ms" {
  description = "TOOL_TIMEOUT_MS: how long the gateway waits for a tool function (above the longest tool timeout, 27 s)."
  type        = number
  default     = 30000
}

variable "kubeconfig_secret" {
  description = "Create the kubeconfig secret (<prefix>-kubeconfig; value added out of band) that the write tools, the workflow step and, without a read-only one, every cluster tool read."
  type        = bool
  default     = true
}

variable "kubeconfig_read_secret" {
  description = "Create a read-only kubeconfig secret (<prefix>-kubeconfig-read) for the read tools and the scheduled checks."
  type        = bool
  default     = false
}

variable "k8s_contexts" {
  description = "K8S_CONTEXTS: the kubeconfig contexts offered (comma separated); null: all."
  type        = string
  default     = null
}

variable "k8s_impersonate" {
  description = "K8S_IMPERSONATE: act on the clusters as the caller (Kubernetes impersonation)."
  type        = bool
  default     = false
}

variable "gcp_projects" {
  description = "GCP_PROJECTS: projects whose GKE clusters are discovered and which the gcp toolset reads; the functions' service accounts get their roles there. Empty: no discovery, the gcp tools answer unconfigured."
  type        = list(string)
  default     = []
}

variable "gcp_billing_table" {
  description = "GCP_BILLING_TABLE: the Cloud Billing standard export table, project.dataset.table; null: no GCP spend."
  type        = string
  default     = null
  validation {
    condition     = var.gcp_billing_table == null || can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]\\.[A-Za-z0-9_]+\\.[A-Za-z0-9_]+$", var.gcp_billing_table))
    error_message = "gcp_billing_table must be project.dataset.table."
  }
}

variable "cost_tag_key" {
  description = "COST_TAG_KEY: the billing label spend is grouped by."
  type        = string
  default     = null
}

variable "cost_instance_prices" {
  description = "COST_INSTANCE_PRICES: JSON of machine type -> USD per hour."
  type        = string
  default     = null
}

variable "prometheus_url" {
  description = "PROMETHEUS_URL for rollout gates."
  type        = string
  default     = null
}

variable "slack_alerts" {
  description = "Create the Slack alerts secret (<prefix>-slack-alerts; a webhook URL or bot token, added out of band)."
  type        = bool
  default     = false
}

variable "slack_channel" {
  description = "SLACK_CHANNEL for alerts (with a bot token)."
  type        = string
  default     = null
}

variable "slack_actions" {
  description = "Deploy the public slack-actions function and create its signing secret (<prefix>-slack-signing)."
  type        = bool
  default     = false
}

variable "slack_approvers" {
  description = "SLACK_APPROVERS: JSON mapping Slack user ids to server identities."
  type        = string
  default     = null
}

variable "drift_check_schedule" {
  description = "Cron schedule of the drift check (Cloud Scheduler, e.g. \"*/5 * * * *\"); null or empty: no drift-check function."
  type        = string
  default     = null
}

variable "cost_check_schedule" {
  description = "Cron schedule of the cost check (e.g. \"0 */6 * * *\"); null or empty: no cost-check function."
  type        = string
  default     = null
}

variable "usage_sample_schedule" {
  description = "Cron schedule of usage sampling (e.g. \"*/5 * * * *\"); null or empty: no usage-sample function."
  type        = string
  default     = null
}

variable "rollback_reconcile_schedule" {
  description = "Cron schedule of the rollback reconciler (retries rollbacks that could not finish), as AWS runs it every 5 minutes."
  type        = string
  default     = "*/5 * * * *"
  validation {
    condition     = length(trimspace(var.rollback_reconcile_schedule)) > 0
    error_message = "rollback_reconcile_schedule must be a cron schedule: a rollback that could not finish is retried only by it."
  }
}

variable "schedule_time_zone" {
  description = "Time zone of the schedules."
  type        = string
  default     = "Etc/UTC"
}

variable "min_instances" {
  description = "Minimum instances of every function but the gateway (0: scale to zero)."
  type        = number
  default     = 0
}

variable "gateway_min_instances" {
  description = "Minimum instances of the gateway (1 keeps one warm, billed idle)."
  type        = number
  default     = 0
}

variable "max_instances" {
  description = "Maximum instances of each function."
  type        = number
  default     = 10
}

variable "memory_mb" {
  description = "Memory per weight (MiB): store = table only, cluster = cluster or cloud reads, change = writes and rollouts (also the gateway and workflow step)."
  type        = object({ store = number, cluster = number, change = number })
  default     = { store = 512, cluster = 1024, change = 1024 }
}
