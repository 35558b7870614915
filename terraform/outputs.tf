output "mcp_url" {
  description = "The MCP endpoint: give it to MCP clients."
  value       = "${google_cloudfunctions2_function.fn["mcp"].url}/mcp"
}

output "slack_actions_url" {
  description = "The Slack app's interactivity Request URL (with slack_actions), else null."
  value       = var.slack_actions ? google_cloudfunctions2_function.fn["slack-actions"].url : null
}
