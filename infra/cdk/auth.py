"""The operators' Cognito user pool and the API Gateway authorizer of every `auth="cognito"` route.

- Groups superadmin, admin and staff are the roles (bookinghub.core.auth); custom:organisation_id and
  custom:websites say which tenant and which websites a user works on. Only administrators set them
  (AdminUpdateUserAttributes): the app client may read them but not write them, so a user cannot move
  themselves into another tenant.
- cdk-nag's Cognito rules are met, not suppressed: a strong password policy (COG1), MFA required with
  TOTP (COG2), threat protection enforced (COG3, the Plus feature plan), and every admin route behind
  the Cognito authorizer (COG4/APIG4).
- The authorizer validates ID tokens (no OAuth scopes on the methods) and hands their claims to the
  function in requestContext.authorizer.claims; infra/local/auth.py reproduces exactly that locally.
- The app client signs in with SRP (the dashboard) or, for operators with AWS credentials, with
  AdminInitiateAuth from the aws CLI (docs/admin-api.md); it has no hosted-UI OAuth flows.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from constructs import Construct

ROLE_GROUPS: tuple[tuple[str, str], ...] = (
    ("superadmin", "Sees and manages everything, every organisation"),
    ("admin", "Manages the websites, integrations and bookings of their organisation"),
    ("staff", "Reads and edits the bookings of the websites listed in custom:websites"),
)
CUSTOM_ATTRIBUTES = ("organisation_id", "websites")


@dataclass(frozen=True)
class RenderedAuth:
    user_pool: cognito.UserPool
    client: cognito.UserPoolClient
    authorizer: apigateway.CognitoUserPoolsAuthorizer


def build_auth(scope: Construct, *, stage: str, protect: bool) -> RenderedAuth:
    user_pool = cognito.UserPool(
        scope,
        "AdminUserPool",
        user_pool_name=f"bookinghub-{stage}-operators",
        self_sign_up_enabled=False,  # operators are invited by an administrator
        sign_in_aliases=cognito.SignInAliases(email=True),
        auto_verify=cognito.AutoVerifiedAttrs(email=True),
        account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
        password_policy=cognito.PasswordPolicy(
            min_length=12,
            require_lowercase=True,
            require_uppercase=True,
            require_digits=True,
            require_symbols=True,
            temp_password_validity=Duration.days(3),
        ),
        mfa=cognito.Mfa.REQUIRED,
        mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
        feature_plan=cognito.FeaturePlan.PLUS,
        standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
        custom_attributes={
            "organisation_id": cognito.StringAttribute(min_len=1, max_len=64, mutable=True),
            "websites": cognito.StringAttribute(min_len=0, max_len=2048, mutable=True),  # comma-separated ids
        },
        deletion_protection=protect,
        removal_policy=RemovalPolicy.RETAIN if protect else RemovalPolicy.DESTROY,
    )
    for precedence, (group, description) in enumerate(ROLE_GROUPS):
        cognito.CfnUserPoolGroup(
            scope,
            f"{group.title()}Group",
            user_pool_id=user_pool.user_pool_id,
            group_name=group,
            description=description,
            precedence=precedence,  # the strongest role first, as bookinghub.core.auth reads them
        )
    client = user_pool.add_client(
        "AdminClient",
        user_pool_client_name=f"bookinghub-{stage}-dashboard",
        generate_secret=False,  # a browser dashboard cannot keep one
        # SRP for the dashboard (the password never leaves the browser); ADMIN_USER_PASSWORD for an operator
        # with AWS credentials (cognito-idp:AdminInitiateAuth) getting a token from the aws CLI
        # (docs/admin-api.md). Never USER_PASSWORD: it would accept a password from anyone, client-side.
        auth_flows=cognito.AuthFlow(user_srp=True, admin_user_password=True),
        # No hosted-UI OAuth flows: CDK's default would enable the implicit grant with an example.com callback
        disable_o_auth=True,
        prevent_user_existence_errors=True,
        id_token_validity=Duration.hours(1),
        access_token_validity=Duration.hours(1),
        refresh_token_validity=Duration.days(1),
        read_attributes=cognito.ClientAttributes()
        .with_standard_attributes(email=True, email_verified=True, fullname=True)
        .with_custom_attributes(*CUSTOM_ATTRIBUTES),
        # Tenant and website attributes are absent here: only administrators may set them
        write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True),
    )
    authorizer = apigateway.CognitoUserPoolsAuthorizer(
        scope,
        "AdminAuthorizer",
        cognito_user_pools=[user_pool],
        authorizer_name=f"bookinghub-{stage}-operators",
        identity_source="method.request.header.Authorization",
        results_cache_ttl=Duration.minutes(5),
    )
    CfnOutput(scope, "AdminUserPoolId", value=user_pool.user_pool_id, description="Operators' Cognito user pool")
    CfnOutput(scope, "AdminUserPoolClientId", value=client.user_pool_client_id, description="Dashboard app client")
    return RenderedAuth(user_pool, client, authorizer)
