//! `/api/v1/users`: user administration (admins only).

pub mod json;

use actix_web::{HttpResponse, get, patch, post, web};
use entity::ids::UserId;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Allowed, needs};
use crate::domain::{NewPassword, Username};
use crate::error::{ApiError, Error, FieldErrors, Msg};
use crate::routes::extract::{Json, Query};
use crate::routes::pagination::{self, Page};
use crate::services::users::{self as service, NewUser, RoleScope, UserChange, UserFilter};
use crate::state::AppState;
use json::{CreateUserRequest, ListUsersQuery, ResetPasswordRequest, UpdateUserRequest, UserJson};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_user)
        .service(list_users)
        .service(get_user)
        .service(update_user)
        .service(reset_password);
}

pub fn parse_display_name(raw: &str) -> Result<String, Msg> {
    let name = raw.trim();
    if (1..=100).contains(&name.chars().count()) && !name.chars().any(char::is_control) {
        Ok(name.to_owned())
    } else {
        Err(Msg::fixed(
            "1-100 characters, no control characters",
            "1-100 个字符，不含控制字符",
        ))
    }
}

/// Create a user.
#[utoipa::path(
    tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = UserJson),
        (status = 409, description = "username_taken"),
        (status = 422, description = "validation_failed"),
    ),
    security(("bearer" = []))
)]
#[post("/users")]
async fn create_user(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    body: Json<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = FieldErrors::default();
    let username = errors.check("username", Username::parse(&body.username));
    let password = errors.check("password", NewPassword::parse(&body.password));
    let display_name = errors.check("display_name", parse_display_name(&body.display_name));
    let scope = RoleScope::parse(
        body.role,
        body.department_id,
        body.shopfront_id,
        &mut errors,
    );
    let areas = errors.check("area_ids", service::parse_area_ids(body.area_ids));
    let (Some(username), Some(password), Some(display_name), Some(scope), Some(areas)) =
        (username, password, display_name, scope, areas)
    else {
        return Err(Error::invalid(errors).into());
    };
    let created = service::create(
        &state,
        NewUser {
            username,
            password,
            display_name,
            scope,
            areas,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(user_json(&state, created).await?))
}

/// List users, oldest first.
#[utoipa::path(
    tag = "users",
    params(ListUsersQuery),
    responses((status = 200, body = Page<UserJson>)),
    security(("bearer" = []))
)]
#[get("/users")]
async fn list_users(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    query: Query<ListUsersQuery>,
) -> Result<web::Json<Page<UserJson>>, ApiError> {
    let mut errors = FieldErrors::default();
    let limit = pagination::parse_limit(query.limit, &mut errors);
    let after = pagination::parse_cursor(query.cursor.as_deref(), &mut errors);
    errors.finish()?;
    let (rows, more) = service::list(
        &state,
        UserFilter {
            role: query.role,
            disabled: query.disabled,
            after,
            limit,
        },
    )
    .await?;
    let next_cursor = rows
        .last()
        .filter(|_| more)
        .map(|last| pagination::cursor_after(last.id));
    Ok(web::Json(Page {
        items: users_json(&state, rows).await?,
        next_cursor,
    }))
}

/// One user.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = UserJson), (status = 404)),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
async fn get_user(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<UserId>,
) -> Result<web::Json<UserJson>, ApiError> {
    Ok(web::Json(
        user_json(&state, service::get(&state, *id).await?).await?,
    ))
}

/// Change display name, role (with its department or shopfront) or disable/enable.
///
/// Disabling ends the user's sessions at once. Admins cannot disable or demote
/// themselves.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path)),
    request_body = UpdateUserRequest,
    responses((status = 200, body = UserJson), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = []))
)]
#[patch("/users/{id}")]
async fn update_user(
    state: web::Data<AppState>,
    user: Allowed<needs::Administer>,
    id: web::Path<UserId>,
    body: Json<UpdateUserRequest>,
) -> Result<web::Json<UserJson>, ApiError> {
    let body = body.into_inner();
    let mut errors = FieldErrors::default();
    let display_name = body
        .display_name
        .as_deref()
        .and_then(|raw| errors.check("display_name", parse_display_name(raw)));
    let scope = match body.role {
        Some(role) => RoleScope::parse(role, body.department_id, body.shopfront_id, &mut errors),
        None => {
            if body.department_id.is_some() || body.shopfront_id.is_some() {
                errors.add(
                    "role",
                    Msg::fixed(
                        "send the role together with department_id or shopfront_id",
                        "修改所属部门或门店时须同时提交角色",
                    ),
                );
            }
            None
        }
    };
    let areas = body
        .area_ids
        .and_then(|ids| errors.check("area_ids", service::parse_area_ids(ids)));
    errors.finish()?;
    let updated = service::update(
        &state,
        user.id,
        *id,
        UserChange {
            display_name,
            scope,
            areas,
            disabled: body.disabled,
        },
    )
    .await?;
    Ok(web::Json(user_json(&state, updated).await?))
}

/// A user as the API shows them, with the areas they are bound to.
pub async fn user_json(state: &AppState, user: entity::users::Model) -> Result<UserJson, Error> {
    let mut users = users_json(state, vec![user]).await?;
    users
        .pop()
        .ok_or_else(|| Error::internal("a user vanished"))
}

/// Users as the API shows them, their areas read in one query.
pub async fn users_json(
    state: &AppState,
    users: Vec<entity::users::Model>,
) -> Result<Vec<UserJson>, Error> {
    let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let mut areas = service::areas_of(&state.db, &ids).await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let bound = areas.remove(&u.id).unwrap_or_default();
            UserJson::new(u, bound)
        })
        .collect())
}

/// Set a new password for a user; their sessions end.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path)),
    request_body = ResetPasswordRequest,
    responses((status = 204), (status = 404), (status = 422)),
    security(("bearer" = []))
)]
#[post("/users/{id}/password")]
async fn reset_password(
    state: web::Data<AppState>,
    _user: Allowed<needs::Administer>,
    id: web::Path<UserId>,
    body: Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let password = NewPassword::parse(&body.new_password)
        .map_err(|problem| Error::invalid_field("new_password", problem))?;
    service::reset_password(&state, *id, password).await?;
    Ok(HttpResponse::NoContent().finish())
}
