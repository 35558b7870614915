# The scheduled checks: one Cloud Scheduler job per deployed check, posting the body the check expects
# with an OIDC token of the scheduler's service account (the only invoker of the checks).

resource "google_service_account" "scheduler" {
  project      = var.project
  account_id   = "${var.name_prefix}-scheduler"
  display_name = "cloudops-mcp scheduled checks"
}

resource "google_cloud_scheduler_job" "check" {
  for_each  = { for name, f in local.functions : name => local.schedules[name] if f.kind == "check" }
  project   = var.project
  region    = var.region
  name      = "${var.name_prefix}-${each.key}"
  schedule  = each.value
  time_zone = var.schedule_time_zone
  # A check runs at most its function's timeout; the next run starts over.
  attempt_deadline = "320s"
  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.fn[each.key].url
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode(jsonencode(local.check_bodies[each.key]))
    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.fn[each.key].url
    }
  }
  depends_on = [google_project_service.api]
}

# The rollback reconciler, as on AWS: every rollback_reconcile_schedule, one pass over the rollouts
# whose rollback could not finish (each retried when its own backoff is due), run by workflow-step.
resource "google_cloud_scheduler_job" "rollback_reconciler" {
  project   = var.project
  region    = var.region
  name      = "${var.name_prefix}-rollback-reconciler"
  schedule  = var.rollback_reconcile_schedule
  time_zone = var.schedule_time_zone
  # Below workflow-step's own timeout; the next run starts over.
  attempt_deadline = "180s"
  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.fn["workflow-step"].url
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode(jsonencode({ step = "rollbacks.reconcile", input = {} }))
    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.fn["workflow-step"].url
    }
  }
  depends_on = [google_project_service.api]
}
