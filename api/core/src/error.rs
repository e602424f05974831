//! The one error type of the use cases: a stable code, a message in both languages, the
//! fields or rows at fault. Causes go to the log, never into the error. How a code is
//! answered over HTTP (its status, its JSON) is the HTTP layer's one mapping.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// A text in the two languages the API speaks: English by default, Chinese for
/// `Accept-Language: zh`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    pub en: Cow<'static, str>,
    pub zh: Cow<'static, str>,
}

impl Msg {
    pub const fn fixed(en: &'static str, zh: &'static str) -> Self {
        Self {
            en: Cow::Borrowed(en),
            zh: Cow::Borrowed(zh),
        }
    }

    pub fn new(en: impl Into<Cow<'static, str>>, zh: impl Into<Cow<'static, str>>) -> Self {
        Self {
            en: en.into(),
            zh: zh.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

/// Stable error codes. The string form never changes; clients switch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    InvalidJson,
    ValidationFailed,
    Unauthorized,
    InvalidCredentials,
    AccountDisabled,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    UsernameTaken,
    ClientIdConflict,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    VersionConflict,
    InvalidTransition,
    InvalidImport,
    PhotoLimitReached,
    UploadIncomplete,
    UploadInProgress,
    UploadMismatch,
    UploadExpired,
    InvalidImage,
    ImageTooLarge,
    PayloadTooLarge,
    UnsupportedMediaType,
    TooManyRequests,
    TooManyLoginAttempts,
    RequestTimeout,
    ServerBusy,
    DatabaseUnavailable,
    StorageUnavailable,
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 34] = [
        ErrorCode::BadRequest,
        ErrorCode::InvalidJson,
        ErrorCode::ValidationFailed,
        ErrorCode::Unauthorized,
        ErrorCode::InvalidCredentials,
        ErrorCode::AccountDisabled,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::UsernameTaken,
        ErrorCode::ClientIdConflict,
        ErrorCode::IdempotencyKeyInUse,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::InvalidIdempotencyKey,
        ErrorCode::VersionConflict,
        ErrorCode::InvalidTransition,
        ErrorCode::InvalidImport,
        ErrorCode::PhotoLimitReached,
        ErrorCode::UploadIncomplete,
        ErrorCode::UploadInProgress,
        ErrorCode::UploadMismatch,
        ErrorCode::UploadExpired,
        ErrorCode::InvalidImage,
        ErrorCode::ImageTooLarge,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::TooManyRequests,
        ErrorCode::TooManyLoginAttempts,
        ErrorCode::RequestTimeout,
        ErrorCode::ServerBusy,
        ErrorCode::DatabaseUnavailable,
        ErrorCode::StorageUnavailable,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::AccountDisabled => "account_disabled",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::UsernameTaken => "username_taken",
            ErrorCode::ClientIdConflict => "client_id_conflict",
            ErrorCode::IdempotencyKeyInUse => "idempotency_key_in_use",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::InvalidIdempotencyKey => "invalid_idempotency_key",
            ErrorCode::VersionConflict => "version_conflict",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::InvalidImport => "invalid_import",
            ErrorCode::PhotoLimitReached => "photo_limit_reached",
            ErrorCode::UploadIncomplete => "upload_incomplete",
            ErrorCode::UploadInProgress => "upload_in_progress",
            ErrorCode::UploadMismatch => "upload_mismatch",
            ErrorCode::UploadExpired => "upload_expired",
            ErrorCode::InvalidImage => "invalid_image",
            ErrorCode::ImageTooLarge => "image_too_large",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::TooManyLoginAttempts => "too_many_login_attempts",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::ServerBusy => "server_busy",
            ErrorCode::DatabaseUnavailable => "database_unavailable",
            ErrorCode::StorageUnavailable => "storage_unavailable",
            ErrorCode::Internal => "internal_error",
        }
    }

    /// A failure of something the server depends on, worth a retry after a pause.
    pub fn is_outage(self) -> bool {
        matches!(
            self,
            ErrorCode::ServerBusy | ErrorCode::DatabaseUnavailable | ErrorCode::StorageUnavailable
        )
    }

    pub fn default_message(self) -> Msg {
        match self {
            ErrorCode::BadRequest => Msg::fixed("The request is malformed.", "请求格式错误。"),
            ErrorCode::InvalidJson => Msg::fixed(
                "The body is not valid JSON for this request.",
                "请求体不是有效的 JSON。",
            ),
            ErrorCode::ValidationFailed => Msg::fixed("Some fields are invalid.", "部分字段无效。"),
            ErrorCode::Unauthorized => Msg::fixed(
                "Sign in first: the access token is missing, invalid or expired.",
                "请先登录：访问令牌缺失、无效或已过期。",
            ),
            ErrorCode::InvalidCredentials => {
                Msg::fixed("Wrong username or password.", "用户名或密码错误。")
            }
            ErrorCode::AccountDisabled => Msg::fixed("This account is disabled.", "该账号已停用。"),
            ErrorCode::Forbidden => {
                Msg::fixed("Your role may not do this.", "您的角色无权执行此操作。")
            }
            ErrorCode::NotFound => Msg::fixed("Not found.", "未找到。"),
            ErrorCode::MethodNotAllowed => {
                Msg::fixed("This method is not allowed here.", "不支持该请求方法。")
            }
            ErrorCode::Conflict => Msg::fixed(
                "The request conflicts with the current state.",
                "请求与当前状态冲突。",
            ),
            ErrorCode::UsernameTaken => Msg::fixed("This username is taken.", "该用户名已被使用。"),
            ErrorCode::ClientIdConflict => Msg::fixed(
                "This client_id was already used for a different report.",
                "该 client_id 已用于另一份不同的上报。",
            ),
            ErrorCode::IdempotencyKeyInUse => Msg::fixed(
                "The request with this Idempotency-Key is still running; try again shortly.",
                "使用该 Idempotency-Key 的请求仍在处理中，请稍后重试。",
            ),
            ErrorCode::IdempotencyKeyReused => Msg::fixed(
                "This Idempotency-Key was already used for a different request.",
                "该 Idempotency-Key 已用于另一个不同的请求。",
            ),
            ErrorCode::InvalidIdempotencyKey => Msg::fixed(
                "The Idempotency-Key must be 1 to 255 visible ASCII characters.",
                "Idempotency-Key 须为 1 至 255 个可见 ASCII 字符。",
            ),
            ErrorCode::VersionConflict => Msg::fixed(
                "The case changed since you read it; reload and try again.",
                "案件已被他人修改，请刷新后重试。",
            ),
            ErrorCode::InvalidTransition => Msg::fixed(
                "This action is not possible in the case's current state.",
                "案件当前状态下不能执行此操作。",
            ),
            ErrorCode::InvalidImport => Msg::fixed(
                "The import has errors; nothing was imported.",
                "导入文件有错误，未导入任何数据。",
            ),
            ErrorCode::PhotoLimitReached => Msg::fixed(
                "A case takes at most 9 photos of each kind.",
                "每个案件每类照片最多 9 张。",
            ),
            ErrorCode::UploadIncomplete => Msg::fixed(
                "The store does not have every part of this upload yet; send the missing ones.",
                "存储中尚缺此上传的部分分片，请补传缺少的分片。",
            ),
            ErrorCode::UploadInProgress => Msg::fixed(
                "This upload is being finalized by another request; ask again shortly.",
                "该上传正由另一请求完成处理，请稍后再查询。",
            ),
            ErrorCode::UploadMismatch => Msg::fixed(
                "The uploaded file is not the one declared (its size or SHA-256 differs); send it again.",
                "已上传的文件与声明不符（大小或 SHA-256 不同），请重新上传。",
            ),
            ErrorCode::UploadExpired => Msg::fixed(
                "This upload has expired; start a new one.",
                "此上传已过期，请重新发起。",
            ),
            ErrorCode::InvalidImage => Msg::fixed(
                "The image cannot be read; it may be truncated or damaged.",
                "图片无法读取，可能已损坏或不完整。",
            ),
            ErrorCode::ImageTooLarge => Msg::fixed(
                "The image has more than 40 megapixels.",
                "图片超过 4000 万像素。",
            ),
            ErrorCode::PayloadTooLarge => {
                Msg::fixed("The request body is too large.", "请求体过大。")
            }
            ErrorCode::UnsupportedMediaType => {
                Msg::fixed("Unsupported content type.", "不支持的内容类型。")
            }
            ErrorCode::TooManyRequests => Msg::fixed(
                "Too many requests; slow down.",
                "请求过于频繁，请稍后再试。",
            ),
            ErrorCode::TooManyLoginAttempts => Msg::fixed(
                "Too many failed sign-ins; try again later.",
                "登录失败次数过多，请稍后再试。",
            ),
            ErrorCode::RequestTimeout => Msg::fixed(
                "The request body arrived too slowly; send it again.",
                "请求体传输过慢，请重新发送。",
            ),
            ErrorCode::ServerBusy => Msg::fixed(
                "The server is busy; try again shortly.",
                "服务器繁忙，请稍后重试。",
            ),
            ErrorCode::DatabaseUnavailable => Msg::fixed(
                "The database is unavailable; try again shortly.",
                "数据库暂时不可用，请稍后重试。",
            ),
            ErrorCode::StorageUnavailable => Msg::fixed(
                "Photo storage is unavailable; try again shortly.",
                "照片存储暂时不可用，请稍后重试。",
            ),
            ErrorCode::Internal => {
                Msg::fixed("Something went wrong on our side.", "服务器内部错误。")
            }
        }
    }
}

/// A failed use case, as the caller is to be told of it.
#[derive(Debug)]
pub struct Error {
    pub code: ErrorCode,
    pub message: Msg,
    pub fields: BTreeMap<String, Msg>,
    /// Problems by row or feature of an imported file (1-based).
    pub rows: Vec<RowProblem>,
    pub retry_after_secs: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct RowProblem {
    pub row: usize,
    pub field: String,
    pub problem: Msg,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message.en)
    }
}

impl std::error::Error for Error {}

/// `Retry-After` of a 503: the database, the store or the server's own limits.
pub const RETRY_AFTER_OUTAGE_SECS: u64 = 5;

impl Error {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: code.default_message(),
            fields: BTreeMap::new(),
            rows: Vec::new(),
            // A client that meets an outage is told when to come back.
            retry_after_secs: code.is_outage().then_some(RETRY_AFTER_OUTAGE_SECS),
        }
    }

    pub fn with_message(mut self, message: Msg) -> Self {
        self.message = message;
        self
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound)
    }

    pub fn unauthorized() -> Self {
        Self::new(ErrorCode::Unauthorized)
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden)
    }

    pub fn bad_request(message: Msg) -> Self {
        Self::new(ErrorCode::BadRequest).with_message(message)
    }

    /// A 422 naming the fields at fault.
    pub fn invalid(fields: FieldErrors) -> Self {
        let mut err = Self::new(ErrorCode::ValidationFailed);
        err.fields = fields.0;
        err
    }

    /// A 422 for a single field.
    pub fn invalid_field(field: &str, problem: Msg) -> Self {
        let mut fields = FieldErrors::default();
        fields.add(field, problem);
        Self::invalid(fields)
    }

    /// A 422 listing what is wrong in which rows of an import; nothing was imported.
    pub fn invalid_rows(rows: Vec<RowProblem>) -> Self {
        let mut err = Self::new(ErrorCode::InvalidImport);
        err.rows = rows;
        err
    }

    pub fn too_many(code: ErrorCode, retry_after_secs: u64) -> Self {
        let mut err = Self::new(code);
        err.retry_after_secs = Some(retry_after_secs.max(1));
        err
    }

    /// Logs the cause chain of an unexpected failure and hides it from the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal)
    }
}

/// Field-level problems collected while parsing a request.
#[derive(Debug, Default)]
pub struct FieldErrors(BTreeMap<String, Msg>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, problem: Msg) {
        self.0.entry(field.to_owned()).or_insert(problem);
    }

    /// Records the error of `result` under `field` and passes its value on.
    pub fn check<T>(&mut self, field: &str, result: Result<T, Msg>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(problem) => {
                self.add(field, problem);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Err` with all problems if there are any.
    pub fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(self))
        }
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        if database_unreachable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return Self::new(ErrorCode::DatabaseUnavailable);
        }
        if unstorable_text(&err) {
            return Self::bad_request(Msg::fixed(
                "The request holds characters that cannot be stored (such as NUL).",
                "请求中含有无法保存的字符（如 NUL）。",
            ));
        }
        match err {
            sea_orm::DbErr::RecordNotFound(_) => Self::not_found(),
            err => Self::internal(err),
        }
    }
}

/// The database error behind `err`, with whether it came from SQLite.
fn database_error(err: &sea_orm::DbErr) -> Option<(String, bool)> {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e))
        | DbErr::Conn(RuntimeErr::SqlxError(e)) => match e.as_ref() {
            Sqlx::Database(db) => {
                let sqlite = db
                    .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                    .is_some();
                db.code().map(|code| (code.into_owned(), sqlite))
            }
            _ => None,
        },
        _ => None,
    }
}

/// PostgreSQL refusing text for its characters (a NUL, an untranslatable character):
/// the client's input, never the database's fault.
fn unstorable_text(err: &sea_orm::DbErr) -> bool {
    database_error(err)
        .is_some_and(|(code, sqlite)| !sqlite && matches!(code.as_str(), "22021" | "22P05"))
}

/// A failure to reach the database rather than a fault of the statement: no connection,
/// a connection cut mid-query (a restart or failover), a server shutting down or full, a
/// SQLite file held by another writer. Worth a retry, so it answers 503.
pub fn database_unreachable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx.as_ref() {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::Protocol(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => true,
        Sqlx::Database(_) => database_error(err).is_some_and(|(code, sqlite)| {
            if sqlite {
                sqlite_busy(&code)
            } else {
                postgres_unreachable(&code)
            }
        }),
        _ => false,
    }
}

/// Class 08 (connection exception), 57P01-57P03 (shutting down, crashed, starting), 53300
/// (too many connections).
fn postgres_unreachable(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

/// SQLite's busy (5) and locked (6), with their extended forms (the low byte is primary).
fn sqlite_busy(code: &str) -> bool {
    code.parse::<u32>()
        .is_ok_and(|sqlite| matches!(sqlite & 0xff, 5 | 6))
}

impl From<sea_orm::TransactionError<Error>> for Error {
    fn from(err: sea_orm::TransactionError<Error>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(api) => api,
        }
    }
}

impl From<crate::storage::StorageError> for Error {
    fn from(err: crate::storage::StorageError) -> Self {
        match err {
            crate::storage::StorageError::NotFound => Self::not_found(),
            crate::storage::StorageError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "storage unavailable");
                Self::new(ErrorCode::StorageUnavailable)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losing_the_database_is_503_and_a_bad_statement_is_500() {
        use sea_orm::sqlx::Error as Sqlx;
        use sea_orm::{DbErr, RuntimeErr};
        let query = |e: Sqlx| DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(e)));
        let cut = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        // A connection cut mid-query during a restart answered 500 before.
        for err in [
            query(Sqlx::Io(cut)),
            query(Sqlx::PoolTimedOut),
            query(Sqlx::PoolClosed),
            query(Sqlx::Protocol("unexpected end of message".into())),
        ] {
            let api: Error = err.into();
            assert_eq!(api.code, ErrorCode::DatabaseUnavailable);
            assert_eq!(api.retry_after_secs, Some(RETRY_AFTER_OUTAGE_SECS));
        }
        for code in ["57P01", "57P03", "08006", "53300"] {
            assert!(postgres_unreachable(code), "{code}");
        }
        for code in ["23505", "42P01", "22021", "42501"] {
            assert!(!postgres_unreachable(code), "{code}");
        }
        for code in ["5", "517", "6", "262"] {
            assert!(sqlite_busy(code), "{code}");
        }
        for code in ["19", "2067", "1"] {
            assert!(!sqlite_busy(code), "{code}");
        }
        let api: Error = query(Sqlx::RowNotFound).into();
        assert_eq!(api.code, ErrorCode::Internal);
    }

    #[test]
    fn every_code_speaks_both_languages() {
        for code in ErrorCode::ALL {
            let msg = code.default_message();
            assert!(!msg.en.is_empty() && !msg.zh.is_empty());
            assert_ne!(msg.en, msg.zh);
        }
    }
}
