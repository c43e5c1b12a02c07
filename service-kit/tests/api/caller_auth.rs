//! Caller tokens and roles through the real middlewares.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use service_kit::caller_auth::{
    AuthError, Caller, CallerAuth, CallerTokens, Role, RolePolicy, authenticate, require_admin,
};
use tower::ServiceExt;

static POLICY: RolePolicy = RolePolicy::new(&[
    (Role::Gateway, &["react"]),
    (Role::Agent, &["react", "read"]),
]);

const GATEWAY: &str = "gateway-token-0123456789abcdef";
const AGENT: &str = "agent-token-0123456789abcdef";
const DASHBOARD: &str = "dashboard-token-0123456789abcdef";

fn app(admin: Option<&str>) -> Router {
    let tokens = CallerTokens::parse(
        "CALLER_TOKENS",
        &format!("gateway:{GATEWAY},agent:{AGENT},dashboard:{DASHBOARD}"),
    )
    .unwrap();
    let auth = CallerAuth::new(tokens, admin, &POLICY);
    async fn read(caller: Caller) -> Result<String, AuthError> {
        caller.require("read")?;
        Ok(caller.role.to_string())
    }
    Router::new()
        .route("/read", get(read))
        .layer(from_fn_with_state(auth.clone(), authenticate))
        .merge(
            Router::new()
                .route("/admin", get(|| async { "admin" }))
                .layer(from_fn_with_state(auth, require_admin)),
        )
}

async fn status(
    app: &Router,
    path: &str,
    authorization: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn refuses_missing_and_wrong_tokens_and_roles_outside_the_policy() {
    let app = app(Some("admin-token-0123456789abcdef"));
    let (code, body) = status(&app, "/read", None).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthenticated");
    assert_eq!(
        status(&app, "/read", Some("Bearer nope")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(&app, "/read", Some(AGENT)).await.0,
        StatusCode::UNAUTHORIZED,
        "no scheme"
    );
    assert_eq!(
        status(&app, "/read", Some(&format!("Bearer {AGENT}")))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        status(&app, "/read", Some(&format!("bearer {AGENT}")))
            .await
            .0,
        StatusCode::OK
    );
    let (code, body) = status(&app, "/read", Some(&format!("Bearer {GATEWAY}"))).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "forbidden");
    assert_eq!(body["details"]["role"], "gateway");
    assert_eq!(
        status(&app, "/read", Some(&format!("Bearer {DASHBOARD}")))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // A caller token is not the admin token, and the other way round.
    assert_eq!(
        status(&app, "/admin", Some(&format!("Bearer {AGENT}")))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(&app, "/admin", Some("Bearer admin-token-0123456789abcdef"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        status(&app, "/read", Some("Bearer admin-token-0123456789abcdef"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn admin_endpoints_are_off_without_an_admin_token() {
    let (code, body) = status(&app(None), "/admin", Some("Bearer anything")).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "admin_disabled");
}
