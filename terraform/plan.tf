# What is deployed and with which settings, from functions.json (node scripts/gcp-plan.ts --write) and
# the variables only: no resource is referenced here, so test/infra/terraform.test.ts evaluates these
# locals with `terraform console` (no providers needed) and checks them against the plan.

locals {
  plan = jsondecode(file("${path.module}/functions.json"))

  # A check is deployed with its schedule; slack-actions with slack_actions.
  schedules = {
    "drift-check"  = coalesce(var.drift_check_schedule, "-")
    "cost-check"   = coalesce(var.cost_check_schedule, "-")
    "usage-sample" = coalesce(var.usage_sample_schedule, "-")
  }
  # The JSON body each check's scheduler job posts.
  check_bodies = {
    "drift-check"  = { check = "drift" }
    "cost-check"   = { check = "cost" }
    "usage-sample" = { check = "usage" }
  }
  functions = {
    for name, f in local.plan.functions : name => f
    if(f.kind == "check" ? local.schedules[name] != "-" : f.kind == "slack" ? var.slack_actions : true)
  }
  names = keys(local.functions)

  # Cloud Functions gen2 URL of each function (the `url` the function reports; a check block in
  # functions.tf compares). Used where a function names itself or would depend on its own block.
  url = { for name in local.names : name => "https://${var.region}-${var.project}.cloudfunctions.net/${var.name_prefix}-${name}" }

  # Service account ids are at most 30 characters: longer names are cut and made unique by a hash.
  sa_id = {
    for name in local.names : name => (
      length("${var.name_prefix}-${name}") <= 30
      ? "${var.name_prefix}-${name}"
      : "${trimsuffix(substr("${var.name_prefix}-${name}", 0, 25), "-")}-${substr(sha256(name), 0, 4)}"
    )
  }
  sa_email        = { for name in local.names : name => "${local.sa_id[name]}@${var.project}.iam.gserviceaccount.com" }
  workflows_email = "${var.name_prefix}-workflows@${var.project}.iam.gserviceaccount.com"
  scheduler_email = "${var.name_prefix}-scheduler@${var.project}.iam.gserviceaccount.com"
  # Whose ID token each private function accepts (OIDC_INVOKERS); the same principal gets roles/run.invoker.
  invoker_email = {
    gateway   = local.sa_email["mcp"]
    workflows = local.workflows_email
    scheduler = local.scheduler_email
  }
  # Every account whose token a private function accepts: its caller's, and for workflow-step also the
  # scheduler's, whose rollback reconciler job posts { "step": "rollbacks.reconcile" } to it.
  accepted_invokers = {
    for name, f in local.functions : name => f.caller == "public" ? [] : concat(
      [local.invoker_email[f.caller]],
      name == "workflow-step" ? [local.scheduler_email] : [],
    )
  }

  # Secrets: name -> the functions that read it (only deployed functions, only configured secrets).
  secret_enabled = {
    kubeconfig      = var.kubeconfig_secret
    kubeconfig-read = var.kubeconfig_read_secret
    slack-alerts    = var.slack_alerts
    slack-signing   = var.slack_actions
  }
  secret_plan = {
    kubeconfig      = var.kubeconfig_read_secret ? local.plan.secretAccessors.kubeconfigWithRead : local.plan.secretAccessors.kubeconfigWithoutRead
    kubeconfig-read = local.plan.secretAccessors.kubeconfigRead
    slack-alerts    = local.plan.secretAccessors.slackAlerts
    slack-signing   = local.plan.secretAccessors.slackSigning
  }
  secret_accessors = {
    for s, on in local.secret_enabled : s => on ? [for n in local.secret_plan[s] : n if contains(local.names, n)] : []
  }
  secret_version = { for s in keys(local.secret_enabled) : s => "projects/${var.project}/secrets/${var.name_prefix}-${s}/versions/latest" }

  flows = ["rollout"]
  workflow_names = {
    for flow in local.flows : "${upper(flow)}_WORKFLOW" => "projects/${var.project}/locations/${var.region}/workflows/${var.name_prefix}-${flow}"
  }

  mcp_public_url = "${local.url["mcp"]}/mcp"
  oauth = merge(
    var.oauth_issuer == null ? {} : { OAUTH_ISSUER = var.oauth_issuer },
    var.oauth_jwks_url == null ? {} : { OAUTH_JWKS_URL = var.oauth_jwks_url },
    var.oauth_audience == null ? {} : { OAUTH_AUDIENCE = var.oauth_audience },
    var.oauth_scope_roles == null ? {} : { OAUTH_SCOPE_ROLES = var.oauth_scope_roles },
  )
  cluster = merge(
    var.k8s_contexts == null ? {} : { K8S_CONTEXTS = var.k8s_contexts },
    var.k8s_impersonate ? { K8S_IMPERSONATE = "true" } : {},
  )
  cost = merge(
    var.cost_tag_key == null ? {} : { COST_TAG_KEY = var.cost_tag_key },
    var.cost_instance_prices == null ? {} : { COST_INSTANCE_PRICES = var.cost_instance_prices },
  )
  # Gen2 runs the unzipped bundle from /workspace.
  bundled_policy = "/workspace/policy.yaml"

  env = {
    for name, f in local.functions : name => merge(
      {
        FIRESTORE_PROJECT    = var.project
        FIRESTORE_DATABASE   = var.firestore_database
        FIRESTORE_COLLECTION = var.firestore_collection
        LOG_LEVEL            = var.log_level
        AUDIT_RETENTION_DAYS = tostring(var.audit_retention_days)
        # The function's own timeout, which the hosts bound their work by.
        FUNCTION_TIMEOUT_SEC = tostring(f.timeoutSeconds)
        # functions-framework answers a body it cannot parse with its own page: no stack trace in it.
        NODE_ENV = "production"
      },
      var.toolsets == null ? {} : { TOOLSETS = var.toolsets },
      var.policy_file == null ? {} : { POLICY_FILE = local.bundled_policy },
      f.caller == "public" ? {} : { OIDC_INVOKERS = join(",", local.accepted_invokers[name]), OIDC_AUDIENCE = local.url[name] },
      # Workflows and Scheduler send their token in Authorization only, which Cloud Run checks and unsigns.
      contains(["workflows", "scheduler"], f.caller) ? { OIDC_TRUST_CLOUD_RUN_IAM = "true" } : {},
      length(f.tools) > 0 ? { TOOL_NAMES = join(",", f.tools) } : {},
      # The checks read one kubeconfig: the read-only one when there is one.
      f.kind == "check" ? (
        contains(local.secret_accessors["kubeconfig-read"], name) ? { KUBECONFIG_SECRET = local.secret_version["kubeconfig-read"] } :
        contains(local.secret_accessors["kubeconfig"], name) ? { KUBECONFIG_SECRET = local.secret_version["kubeconfig"] } : {}
        ) : merge(
        contains(local.secret_accessors["kubeconfig"], name) ? { KUBECONFIG_SECRET = local.secret_version["kubeconfig"] } : {},
        contains(local.secret_accessors["kubeconfig-read"], name) ? {
          KUBECONFIG_READ_SECRET = local.secret_version["kubeconfig-read"]
          KUBECONFIG_READ_TOOLS  = join(",", f.tools)
        } : {},
      ),
      f.kube != null || f.gcpProjects ? local.cluster : {},
      f.gcpProjects && length(var.gcp_projects) > 0 ? { GCP_PROJECTS = join(",", var.gcp_projects) } : {},
      f.metrics && var.prometheus_url != null ? { PROMETHEUS_URL = var.prometheus_url } : {},
      f.startsWorkflow ? local.workflow_names : {},
      contains(local.secret_accessors["slack-alerts"], name) ? merge(
        { SLACK_ALERTS_SECRET = local.secret_version["slack-alerts"] },
        var.slack_channel == null ? {} : { SLACK_CHANNEL = var.slack_channel },
      ) : {},
      f.billing && var.gcp_billing_table != null ? { GCP_BILLING_TABLE = var.gcp_billing_table } : {},
      f.billing || f.toolset == "cost" ? local.cost : {},
      # server_info reports how callers sign in.
      f.oauth && var.oauth_issuer != null ? merge(local.oauth, { PUBLIC_URL = local.mcp_public_url }) : {},
      f.kind == "gateway" ? merge(local.oauth, {
        PUBLIC_URL      = local.mcp_public_url
        TOOL_TIMEOUT_MS = tostring(var.tool_timeout_ms)
        TOOL_FUNCTIONS  = jsonencode({ for n, t in local.functions : t.tools[0] => local.url[n] if t.kind == "tool" })
      }, var.allowed_origins == null ? {} : { ALLOWED_ORIGINS = var.allowed_origins }) : {},
      f.kind == "slack" ? merge(
        { SLACK_SIGNING_SECRET = local.secret_version["slack-signing"] },
        var.slack_approvers == null ? {} : { SLACK_APPROVERS = var.slack_approvers },
      ) : {},
    )
  }

  # IAM, flattened for for_each: deployment-project roles, roles in each gcp_projects project
  # (predefined and custom apart), BigQuery for the billing export.
  project_grants = {
    for g in flatten([for name, f in local.functions : [for r in f.projectRoles : { name = name, role = r }]]) : "${g.name} ${g.role}" => g
  }
  target_grants = {
    for g in flatten([
      for name, f in local.functions : [for p in var.gcp_projects : [for r in f.targetRoles : { name = name, project = p, role = r }]]
    ]) : "${g.name} ${g.project} ${g.role}" => g
  }
  target_predefined = { for k, g in local.target_grants : k => g if !startswith(g.role, "custom:") }
  target_custom     = { for k, g in local.target_grants : k => merge(g, { custom = trimprefix(g.role, "custom:") }) if startswith(g.role, "custom:") }
  custom_roles = {
    for g in distinct([for g in values(local.target_custom) : { project = g.project, role = g.custom }]) : "${g.project} ${g.role}" => merge(g, {
      role_id     = "${replace(var.name_prefix, "-", "_")}_${g.role}"
      permissions = local.plan.customRoles[g.role]
    })
  }
  billing_parts   = var.gcp_billing_table == null ? [] : split(".", var.gcp_billing_table)
  billing_readers = var.gcp_billing_table == null ? [] : [for name, f in local.functions : name if f.billing]

  # Who may invoke each function (roles/run.invoker on its Cloud Run service).
  invoker_member = {
    for name, f in local.functions : name => f.caller == "public" ? "allUsers" : "serviceAccount:${local.invoker_email[f.caller]}"
  }

  firestore_database_name = "projects/${var.project}/databases/${var.firestore_database}"

  bundles = toset([for f in values(local.functions) : f.bundle])
}
