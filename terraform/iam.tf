# Each function's roles (functions.json): in the deployment project, in each gcp_projects project, and
# on the billing export. No primitive role anywhere (test/infra/terraform.test.ts).

resource "google_project_iam_member" "fn" {
  for_each = local.project_grants
  project  = var.project
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.fn[each.value.name].email}"
  # Firestore roles hold for the deployment's database only, not the project's others.
  dynamic "condition" {
    for_each = startswith(each.value.role, "roles/datastore.") ? [local.firestore_database_name] : []
    content {
      title      = "only the cloudops-mcp database"
      expression = "resource.name == \"${condition.value}\""
    }
  }
}

resource "google_project_iam_member" "target" {
  for_each = local.target_predefined
  project  = each.value.project
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.fn[each.value.name].email}"
}

resource "google_project_iam_custom_role" "target" {
  for_each    = local.custom_roles
  project     = each.value.project
  role_id     = each.value.role_id
  title       = "cloudops-mcp ${each.value.role}"
  description = "Exactly the Compute calls of the cloudops-mcp gcp tools (terraform/functions.json customRoles)."
  permissions = each.value.permissions
}

resource "google_project_iam_member" "target_custom" {
  for_each = local.target_custom
  project  = each.value.project
  role     = google_project_iam_custom_role.target["${each.value.project} ${each.value.custom}"].name
  member   = "serviceAccount:${google_service_account.fn[each.value.name].email}"
}

# BigQuery: query jobs run in the billing table's project; the data is read from its dataset only.
resource "google_project_iam_member" "billing_jobs" {
  for_each = toset(local.billing_readers)
  project  = local.billing_parts[0]
  role     = "roles/bigquery.jobUser"
  member   = "serviceAccount:${google_service_account.fn[each.value].email}"
}

resource "google_bigquery_dataset_iam_member" "billing_data" {
  for_each   = toset(local.billing_readers)
  project    = local.billing_parts[0]
  dataset_id = local.billing_parts[1]
  role       = "roles/bigquery.dataViewer"
  member     = "serviceAccount:${google_service_account.fn[each.value].email}"
}
