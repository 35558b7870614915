# Secret Manager secrets, without values: add each with
#   gcloud secrets versions add <prefix>-<name> --data-file=<file> --project <project>
# (docs/gcp.md). Each may be read only by the functions whose plan row needs it (local.secret_accessors).

resource "google_secret_manager_secret" "secret" {
  for_each  = toset([for s, on in local.secret_enabled : s if on])
  project   = var.project
  secret_id = "${var.name_prefix}-${each.key}"
  replication {
    auto {}
  }
  depends_on = [google_project_service.api]
}

resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = {
    for g in flatten([for s, names in local.secret_accessors : [for n in names : { secret = s, name = n }]]) : "${g.secret} ${g.name}" => g
  }
  project   = var.project
  secret_id = google_secret_manager_secret.secret[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.fn[each.value.name].email}"
}
