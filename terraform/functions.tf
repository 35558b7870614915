# The bundles (npm run build:gcp writes ../dist/gcp/<bundle>/index.js + package.json), one zip each in
# the source bucket, and one Cloud Function (gen2) per entry of functions.json that is deployed.

locals {
  dist = "${path.module}/../dist/gcp"
}

data "archive_file" "bundle" {
  for_each    = local.bundles
  type        = "zip"
  output_path = "${path.module}/.build/${each.key}.zip"

  source {
    filename = "index.js"
    content  = file("${local.dist}/${each.key}/index.js")
  }
  source {
    filename = "package.json"
    content  = file("${local.dist}/${each.key}/package.json")
  }
  dynamic "source" {
    for_each = var.policy_file == null ? [] : [var.policy_file]
    content {
      filename = "policy.yaml"
      content  = file(source.value)
    }
  }
}

resource "google_storage_bucket" "source" {
  project                     = var.project
  name                        = "${var.project}-${var.name_prefix}-gcf-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  depends_on                  = [google_project_service.api]
}

resource "google_storage_bucket_object" "bundle" {
  for_each = local.bundles
  # The content hash in the name: a changed bundle is a new object, which redeploys its functions.
  name   = "${each.key}-${data.archive_file.bundle[each.key].output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.bundle[each.key].output_path
}

# Builds run as their own service account with only what a function build needs.
resource "google_service_account" "build" {
  project      = var.project
  account_id   = "${var.name_prefix}-build"
  display_name = "cloudops-mcp function builds"
}

resource "google_project_iam_member" "build" {
  for_each = toset(["roles/logging.logWriter", "roles/artifactregistry.writer"])
  project  = var.project
  role     = each.value
  member   = "serviceAccount:${google_service_account.build.email}"
}

resource "google_storage_bucket_iam_member" "build_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}

resource "google_service_account" "fn" {
  for_each     = local.functions
  project      = var.project
  account_id   = local.sa_id[each.key]
  display_name = "cloudops-mcp ${each.key}"
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions
  project  = var.project
  name     = "${var.name_prefix}-${each.key}"
  location = var.region

  build_config {
    runtime         = "nodejs22"
    entry_point     = each.value.entryPoint
    service_account = google_service_account.build.id
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.bundle[each.value.bundle].name
      }
    }
  }

  service_config {
    available_memory               = "${var.memory_mb[each.value.weight]}Mi"
    timeout_seconds                = each.value.timeoutSeconds
    min_instance_count             = each.key == "mcp" ? var.gateway_min_instances : var.min_instances
    max_instance_count             = var.max_instances
    service_account_email          = google_service_account.fn[each.key].email
    environment_variables          = local.env[each.key]
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
  }

  depends_on = [
    google_project_service.api,
    google_project_iam_member.build,
    google_storage_bucket_iam_member.build_source,
  ]
}

# Every function names itself (OIDC_AUDIENCE, PUBLIC_URL) and the gateway its tools (TOOL_FUNCTIONS)
# by the URL computed in plan.tf; this warns if Google ever reports another.
check "function_urls" {
  assert {
    condition     = alltrue([for name, f in google_cloudfunctions2_function.fn : f.url == local.url[name]])
    error_message = "A function's URL differs from the one its settings name (terraform/plan.tf local.url)."
  }
}

# Who may invoke each function: its one caller (allUsers for the gateway and Slack actions, which
# authenticate requests themselves).
# The rollback reconciler job (scheduler.tf) also calls workflow-step, as the scheduler's account.
resource "google_cloud_run_service_iam_member" "reconciler" {
  project    = var.project
  location   = var.region
  service    = google_cloudfunctions2_function.fn["workflow-step"].name
  role       = "roles/run.invoker"
  member     = "serviceAccount:${local.scheduler_email}"
  depends_on = [google_service_account.scheduler]
}

resource "google_cloud_run_service_iam_member" "invoker" {
  for_each = local.functions
  project  = var.project
  location = var.region
  service  = google_cloudfunctions2_function.fn[each.key].name
  role     = "roles/run.invoker"
  member   = local.invoker_member[each.key]
  depends_on = [
    google_service_account.workflows,
    google_service_account.scheduler,
    google_service_account.fn,
  ]
}
