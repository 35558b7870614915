# The rollout workflow, deployed as generated (shared/workflows/rollout.workflows.yaml): every step
# calls the workflow-step function with the workflow's own OIDC token.

resource "google_service_account" "workflows" {
  project      = var.project
  account_id   = "${var.name_prefix}-workflows"
  display_name = "cloudops-mcp workflows"
}

resource "google_workflows_workflow" "flow" {
  for_each        = toset(local.flows)
  project         = var.project
  name            = "${var.name_prefix}-${each.key}"
  region          = var.region
  description     = "cloudops-mcp ${each.key} (shared/workflows/${each.key}.workflows.yaml)"
  service_account = google_service_account.workflows.id
  source_contents = file("${path.module}/../shared/workflows/${each.key}.workflows.yaml")
  user_env_vars = {
    WORKFLOW_STEP_URL = google_cloudfunctions2_function.fn["workflow-step"].url
  }
  depends_on = [google_project_service.api]
}
