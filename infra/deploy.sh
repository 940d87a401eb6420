#!/usr/bin/env bash
# `make deploy STAGE=dev|prod`: the documented CloudFormation sequence, stateful stack first,
# then the app. DRY_RUN=1 prints the commands instead of running them.
#
# Needs, for a real run: the AWS CLI with credentials for the target account, and
#   ARTIFACT_BUCKET       an S3 bucket for the Lambda bundle (aws cloudformation package)
#   NOTIFICATIONS_FROM    the address the members' e-mails come from; its domain is the
#                         stage's SES identity (Easy DKIM), verified once the three CNAMEs
#                         this script prints at the end are in the domain's DNS
#   PORTAL_ORIGINS        (optional) the portal's origins if not its CloudFront domain (CORS),
#                         comma-separated, e.g. https://adherent.example
#   PORTAL_URL            (optional) the portal the e-mails link to (List-Unsubscribe); by
#                         default the first of the stage's portal origins
#   ALARM_TOPIC_ARN       the SNS topic of the on-call rota: required for prod (without it
#                         every alarm, the audit chain's included, would tell no one);
#                         optional for dev
#   APP_ONLY=1            deploy the app stack and the portal, not the data stack: a roll
#                         back to an earlier release (README, "Operate"). The data stack only
#                         ever moves forward: an older template would remove what the newer
#                         one added (an index, a queue with its messages) or fail on an export
#                         the running app imports, before the app is reached.
#   DATA_ONLY=1           deploy the data stack alone, not the app: a release whose new
#                         index needs a backfill before the app reads it (README, "Deploy")
# and, once per account and region, what the stacks cannot create themselves: API Gateway's
# CloudWatch Logs role (`aws apigateway update-account`, the API's access logs need it), SES
# production access (out of the sandbox), SNS's SMS out of its sandbox with a spending limit
# that fits the members' SMS, and a Lambda concurrency quota of at least 104 (four schedules
# reserve one each; Lambda keeps 100 unreserved).
set -euo pipefail
stage=${1:?usage: deploy.sh dev|prod}
dist="dist/${stage}"
region=${AWS_REGION:-eu-west-3}
run() {
  if [ "${DRY_RUN:-0}" = "1" ]; then printf '%q ' "$@"; printf '\n'; else "$@"; fi
}
if [ "${DRY_RUN:-0}" != "1" ]; then
  required=(ARTIFACT_BUCKET NOTIFICATIONS_FROM)
  [ "$stage" = "prod" ] && required+=(ALARM_TOPIC_ARN)
  for name in "${required[@]}"; do
    [ -n "${!name:-}" ] || { echo "deploy: $name is not set (see infra/deploy.sh)" >&2; exit 2; }
  done
  command -v aws >/dev/null || { echo "deploy: the AWS CLI is not installed" >&2; exit 2; }
fi
[ -f "${dist}/stateful.yaml" ] && [ -f "${dist}/app/sam.yaml" ] || {
  echo "deploy: ${dist} is missing: run make package STAGE=${stage}" >&2; exit 2; }

[ "${APP_ONLY:-0}" = "1" ] || run aws cloudformation deploy --region "$region" \
  --stack-name "generation-demarches-${stage}-data" \
  --template-file "${dist}/stateful.yaml" \
  --parameter-overrides "Stage=${stage}" "PortalOrigins=${PORTAL_ORIGINS:-}" \
    "NotificationsFrom=${NOTIFICATIONS_FROM:-<NOTIFICATIONS_FROM>}" \
    "AlarmTopicArn=${ALARM_TOPIC_ARN:-}" \
  --no-fail-on-empty-changeset --tags "app=generation-demarches" "stage=${stage}"
if [ "${DATA_ONLY:-0}" = "1" ]; then
  echo "deploy: the data stack only (DATA_ONLY=1); the app and the portal are as they were" >&2
  exit 0
fi
output() {  # output <stack> <key>
  if [ "${DRY_RUN:-0}" = "1" ]; then echo "<$2>"; return; fi
  aws cloudformation describe-stacks --region "$region" --stack-name "$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue" --output text
}
data_stack="generation-demarches-${stage}-data"
portal_url=${PORTAL_URL:-$(output "$data_stack" PortalOrigins | cut -d, -f1)}
secret_version() {  # secret_version <name>: the version its current value has (not the value)
  if [ "${DRY_RUN:-0}" = "1" ]; then echo "<$1 version>"; return; fi
  aws secretsmanager list-secret-version-ids --region "$region" --secret-id "$1" \
    --query "Versions[?contains(VersionStages, 'AWSCURRENT')].VersionId | [0]" --output text
}
run aws cloudformation package --region "$region" \
  --template-file "${dist}/app/sam.yaml" \
  --s3-bucket "${ARTIFACT_BUCKET:-artifact-bucket}" --s3-prefix "generation-demarches/${stage}" \
  --output-template-file "${dist}/app/packaged.yaml"
run aws cloudformation deploy --region "$region" \
  --stack-name "generation-demarches-${stage}-app" \
  --template-file "${dist}/app/packaged.yaml" \
  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
  --parameter-overrides "Stage=${stage}" "AlarmTopicArn=${ALARM_TOPIC_ARN:-}" \
    "PortalUrl=${portal_url}" \
    "CursorSecretVersion=$(secret_version "generation-demarches-${stage}-cursor-secret")" \
    "LogPseudonymSecretVersion=$(secret_version "generation-demarches-${stage}-log-pseudonym-secret")" \
  --no-fail-on-empty-changeset --tags "app=generation-demarches" "stage=${stage}"

# The portal (web/, copied by `make package`): its config.json names the stage's API and pool,
# then the files go to the private portal bucket and CloudFront forgets the old ones.
api_url="$(output "generation-demarches-${stage}-app" EndpointURL)"
api_url="${api_url%/}"  # the stage's URL ends with a slash: the portal adds its own paths
cat > "${dist}/portal/config.json" <<JSON
{"api_url": "${api_url}",
 "cognito_endpoint": "https://cognito-idp.${region}.amazonaws.com/",
 "region": "${region}",
 "client_id": "$(output "$data_stack" UserPoolClientId)",
 "local": false}
JSON
run aws s3 sync --region "$region" --delete "${dist}/portal" \
  "s3://$(output "$data_stack" PortalBucketName)/"
run aws cloudfront create-invalidation --distribution-id "$(output "$data_stack" PortalDistributionId)" \
  --paths "/*"

# The sender's domain (the data stack's SES identity) is verified, and its e-mails signed, once
# these three CNAMEs are in its DNS: no e-mail goes out before (README, "Operate").
echo "SES: publish these CNAMEs in the sender's domain; its identity reads SUCCESS True once SES finds them:"
for i in 1 2 3; do
  echo "  $(output "$data_stack" "DkimDNSTokenName$i") CNAME $(output "$data_stack" "DkimDNSTokenValue$i")"
done
run aws sesv2 get-email-identity --region "$region" \
  --email-identity "$(output "$data_stack" NotificationsIdentity)" \
  --query "[DkimAttributes.Status, VerifiedForSendingStatus]" --output text
