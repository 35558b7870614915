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
