//! The route table: every module of `web` registers its routes through [`Routes`], which hands
//! each to actix and writes it down. The same registration run without actix gives
//! [`crate::web::route_table`], so a test can try every route the application really serves —
//! a route added anywhere is in the table, whether or not its author remembered the test.

use actix_web::dev::Handler;
use actix_web::{FromRequest, Responder, web};

/// How a route is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    /// Every method (the API's catch-all, which answers 404 or 405 in JSON).
    Any,
}

/// One registered route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    /// The pattern as registered, such as `/console/campaigns/{id}/results`.
    pub path: &'static str,
}

/// Registers routes with actix (when serving) and writes each down.
pub struct Routes<'a> {
    config: Option<&'a mut web::ServiceConfig>,
    table: Vec<Route>,
}

impl<'a> Routes<'a> {
    /// Routes registered with actix as well as written down.
    pub fn serving(config: &'a mut web::ServiceConfig) -> Routes<'a> {
        Routes {
            config: Some(config),
            table: Vec::new(),
        }
    }

    /// Routes only written down.
    pub fn listing() -> Routes<'static> {
        Routes {
            config: None,
            table: Vec::new(),
        }
    }

    pub fn into_table(self) -> Vec<Route> {
        self.table
    }

    fn add(
        &mut self,
        method: Method,
        path: &'static str,
        route: impl FnOnce() -> actix_web::Route,
    ) {
        if let Some(config) = self.config.as_deref_mut() {
            config.route(path, route());
        }
        self.table.push(Route { method, path });
    }

    pub fn get<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::Get, path, || web::get().to(handler));
        self
    }

    pub fn post<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::Post, path, || web::post().to(handler));
        self
    }

    /// A path that both shows (GET) and takes (POST) a form, as one resource: its path is matched
    /// once per request, where two registrations match it twice for a POST (the phone form's
    /// `/s/{token}`, the busiest path). Other methods get the 404 page, as for any path.
    pub fn get_and_post<G, GArgs, P, PArgs>(
        &mut self,
        path: &'static str,
        show: G,
        take: P,
    ) -> &mut Self
    where
        G: Handler<GArgs>,
        GArgs: FromRequest + 'static,
        G::Output: Responder + 'static,
        P: Handler<PArgs>,
        PArgs: FromRequest + 'static,
        P::Output: Responder + 'static,
    {
        if let Some(config) = self.config.as_deref_mut() {
            config.service(
                web::resource(path)
                    .route(web::get().to(show))
                    .route(web::post().to(take))
                    .default_service(web::to(super::not_found)),
            );
        }
        self.table.push(Route {
            method: Method::Get,
            path,
        });
        self.table.push(Route {
            method: Method::Post,
            path,
        });
        self
    }

    pub fn any<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::Any, path, || web::route().to(handler));
        self
    }
}
