//! Per-request context: who is asking (lazily authenticated) and from where.

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::Context;
use tokio::sync::OnceCell;

use crate::error::{AppError, AppResult};
use crate::service::{Services, Viewer};

/// Put into every GraphQL request by the HTTP layer.
pub struct RequestContext {
    pub client_ip: IpAddr,
    bearer_token: Option<String>,
    /// Authenticated at most once per request, on first use, so operations
    /// that need no account (login, register) never touch the token.
    viewer: OnceCell<Viewer>,
}

impl RequestContext {
    pub fn new(client_ip: IpAddr, bearer_token: Option<String>) -> Self {
        RequestContext {
            client_ip,
            bearer_token,
            viewer: OnceCell::new(),
        }
    }

    /// For an operation on a WebSocket whose `connection_init` was accepted.
    pub fn authenticated(client_ip: IpAddr, viewer: Viewer) -> Self {
        RequestContext {
            client_ip,
            bearer_token: None,
            viewer: OnceCell::new_with(Some(viewer)),
        }
    }
}

/// The services, from schema data.
pub fn services<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<Services>> {
    ctx.data::<Arc<Services>>()
}

pub fn request<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a RequestContext> {
    ctx.data::<RequestContext>()
}

/// The signed-in viewer, or UNAUTHENTICATED.
pub async fn viewer<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Viewer> {
    let services = services(ctx)?;
    let request = request(ctx)?;
    let viewer = request
        .viewer
        .get_or_try_init(|| async {
            match request.bearer_token.as_deref() {
                Some(token) => services.auth.authenticate(token).await,
                None => Err(AppError::unauthenticated("sign in first: no access token")),
            }
        })
        .await?;
    Ok(viewer)
}

/// The viewer if the request is signed in; `None` for anonymous requests.
pub async fn optional_viewer<'a>(ctx: &Context<'a>) -> AppResult<Option<&'a Viewer>> {
    match viewer(ctx).await {
        Ok(viewer) => Ok(Some(viewer)),
        Err(_) => Ok(None),
    }
}

/// The request's DataLoaders.
pub fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a super::loaders::Loaders> {
    ctx.data::<super::loaders::Loaders>()
}
