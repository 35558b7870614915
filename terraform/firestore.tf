# The Store: a Firestore (native mode) database; items live in the collection group `items` and expire
# by their `expireAt` field (shared/adapters/gcp/firestore-store.ts; names from functions.json).

resource "google_firestore_database" "store" {
  project                 = var.project
  name                    = var.firestore_database
  location_id             = coalesce(var.firestore_location, var.region)
  type                    = "FIRESTORE_NATIVE"
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  # terraform destroy leaves the database (audit trail, approvals) in place.
  deletion_policy = "ABANDON"
  depends_on      = [google_project_service.api]
}

resource "google_firestore_field" "ttl" {
  project    = var.project
  database   = google_firestore_database.store.name
  collection = local.plan.firestore.itemsGroup
  field      = local.plan.firestore.ttlField
  ttl_config {}
  # No single-field index on a timestamp every write sets (Firestore's advice for TTL fields).
  index_config {}
}
