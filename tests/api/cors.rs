//! Calling dockgate from a browser: the portals' origins get CORS answers, every other origin
//! none, and with `CORS_ALLOWED_ORIGINS` unset no `Access-Control-*` header is ever sent.

use reqwest::{Method, StatusCode};

use crate::helpers::TestApp;

const PORTAL: &str = "https://portal.example.com";

async fn with_cors() -> TestApp {
    TestApp::spawn_with(|config| {
        config.cors_allowed_origins = vec![PORTAL.to_owned(), "http://localhost:3000".into()]
    })
    .await
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn cors_headers(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn a_page_of_an_allowed_origin_reads_the_answer_and_its_headers() {
    let app = with_cors().await;
    let admin = app.admin().await;
    let response = admin.request(Method::GET, "/v1/me").header("origin", PORTAL).send().await.expect("me");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "access-control-allow-origin").as_deref(), Some(PORTAL));
    assert!(header(&response, "vary").is_some_and(|v| v.to_ascii_lowercase().contains("origin")));
    assert!(header(&response, "access-control-allow-credentials").is_none(), "tokens, not cookies");
    let exposed = header(&response, "access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    for name in ["etag", "idempotent-replayed", "location", "retry-after", "x-request-id"] {
        assert!(exposed.contains(name), "{name} is exposed: {exposed}");
    }
}

#[tokio::test]
async fn another_origin_gets_no_cors_headers() {
    let app = with_cors().await;
    let admin = app.admin().await;
    let response = admin
        .request(Method::GET, "/v1/me")
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("me");
    assert_eq!(cors_headers(&response), Vec::<String>::new());
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/v1/me"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .expect("preflight");
    assert_eq!(cors_headers(&preflight), Vec::<String>::new());
}

#[tokio::test]
async fn a_preflight_of_a_conditional_patch_names_the_paths_methods_and_the_headers() {
    let app = with_cors().await;
    let admin = app.admin().await;
    let customer = crate::helpers::id_of(&admin.create_customer("Acme").await);
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url(&format!("/v1/customers/{customer}")))
        .header("origin", PORTAL)
        .header("access-control-request-method", "PATCH")
        .header("access-control-request-headers", "authorization, content-type, if-match")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(header(&preflight, "access-control-allow-origin").as_deref(), Some(PORTAL));
    let methods = header(&preflight, "access-control-allow-methods").unwrap_or_default();
    let mut methods: Vec<&str> = methods.split(", ").collect();
    methods.sort_unstable();
    assert_eq!(methods, ["DELETE", "GET", "PATCH"], "the methods of this path, not of the whole API");
    let allowed = header(&preflight, "access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    for name in ["authorization", "content-type", "if-match"] {
        assert!(allowed.contains(name), "{name} may be sent: {allowed}");
    }
    assert_eq!(header(&preflight, "access-control-max-age").as_deref(), Some("3600"));

    // A method the path does not have, or a path that does not exist: no CORS answer.
    for (path, method) in [("/v1/me", "DELETE"), ("/v1/no-such-thing", "GET")] {
        let refused = app
            .client
            .request(Method::OPTIONS, app.url(path))
            .header("origin", PORTAL)
            .header("access-control-request-method", method)
            .send()
            .await
            .expect("preflight");
        assert_eq!(cors_headers(&refused), Vec::<String>::new(), "{method} {path}");
    }
}

#[tokio::test]
async fn without_allowed_origins_no_cors_header_is_ever_sent() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let response = admin.request(Method::GET, "/v1/me").header("origin", PORTAL).send().await.expect("me");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cors_headers(&response), Vec::<String>::new());
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/v1/me"))
        .header("origin", PORTAL)
        .header("access-control-request-method", "GET")
        .send()
        .await
        .expect("preflight");
    assert_eq!(cors_headers(&preflight), Vec::<String>::new());
}
