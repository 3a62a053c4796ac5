/** The commented starter `sluice.yaml` that `sluice init` and a first `sluice serve` write. */
export function starterConfigText(): string {
  return `# Sluice gateway configuration. Point Claude Code at it with ANTHROPIC_BASE_URL.
# \${VAR} reads the environment when the gateway starts; an unset variable is an error.

server:
  host: 127.0.0.1          # listen address; use 0.0.0.0 only behind a firewall or TLS proxy
  port: 8787
  # maxBodyBytes: 33554432 # largest request accepted (32 MB, as the Messages API)

# Where keys and the audit log live: sqlite:PATH (one machine) or postgres://user@host:5432/db
storage: sqlite:./.sluice/sluice.db

upstreams:
  anthropic:
    provider: anthropic
    baseUrl: https://api.anthropic.com
    apiKey: \${ANTHROPIC_API_KEY}  # the real key stays here; clients only get Sluice keys

orgs:
  default:
    upstream: anthropic
    zdr: false                 # true: no prompt or response content at rest, ever
    contentLogging: none       # none | redacted | full (treated as none under zdr)
    retentionDays: 30          # audit records older than this are deleted
    guard:                     # what reaches the model is scanned for secrets and personal data
      secrets: redact          # off | log | redact | block
      pii: log                 # off | log | redact | block
      # piiKinds: { email: false }   # switch one kind off: email, phone, credit-card, iban, us-ssn
      # failOpen: false        # true forwards a request unscanned when the scan fails (logged)
      # timeoutMs: 2000        # the scan budget for one request
    # restore: false           # true puts real values back where the model writes a placeholder
    # budgets: { perUser: { daily: 5, monthly: 100 }, org: { monthly: 2000 } }   # USD, UTC day/month
    # rateLimits: { perUser: { requestsPerMinute: 60, tokensPerMinute: 400000 } }
    # unpricedModel: dearest   # unknown models: dearest of their family; or refuse, or { input, output, cacheWrite, cacheRead }
    # flaggedRetentionDays: 730  # records of blocked requests (metadata only)
    # profile:                 # the org's setup, as \`sluice explain --profile\` reads it; sets egress defaults
    #   plan: team
    #   provider: anthropic    # or bedrock, vertex, foundry
    #   env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" }
    # egress:                  # added to what the profile implies; see \`sluice egress policy\`
    #   allow: [package-registries, "*.internal.example.com"]
    #   deny: [anthropic-api]
# egress: { host: 127.0.0.1, port: 8788 }   # the egress proxy for HTTPS_PROXY (off unless set)
# prices:                      # USD per million tokens; overrides the price dataset (see \`sluice prices\`)
#   my-model: { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 }
`;
}
