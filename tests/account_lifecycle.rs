//! The account lifecycle by email: verification, password reset (through a
//! real SMTP server: Python's aiosmtpd), password and email changes, and
//! deletion. Outbox mode (no SMTP_URL) writes .eml files instead.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::process::free_port;
use common::{PASSWORD, TestServer, assert_code, assert_no_errors, error_field};
use serde_json::{Value, json};

/// Mails as files, oldest first: the outbox's .eml files or a Maildir's.
fn mails_in(dir: &Path) -> Vec<String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths
        .iter()
        .filter(|path| path.is_file())
        .filter_map(|path| std::fs::read_to_string(path).ok())
        // Undo quoted-printable soft line breaks and escapes around links.
        .map(|mail| {
            mail.replace("=\r\n", "")
                .replace("=\n", "")
                .replace("=3D", "=")
        })
        .collect()
}

/// Waits (bounded) until `dir` holds at least `count` mails.
async fn wait_for_mails(dir: &Path, count: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let mails = mails_in(dir);
        if mails.len() >= count {
            return mails;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {count} mails in {}, got {}",
            dir.display(),
            mails.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The token of the first `path?token=` link in a mail.
fn token_in(mail: &str, path: &str) -> String {
    let marker = format!("{path}?token=");
    let start = mail
        .find(&marker)
        .map(|at| at + marker.len())
        .expect("a link in the mail");
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn me(server: &TestServer, token: &str) -> Value {
    server
        .gql(
            Some(token),
            "{ me { username displayName emailVerified email } }",
            json!({}),
        )
        .await
}

/// aiosmtpd writing what it receives into a Maildir.
struct SmtpServer {
    port: u16,
    maildir: tempfile::TempDir,
    child: Child,
}

impl SmtpServer {
    fn start() -> Self {
        let maildir = tempfile::tempdir().expect("maildir");
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // Python's Maildir creates its folders only for a new path.
            .arg(maildir.path().join("maildir"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd must be installed (scripts/test.sh installs it)");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "aiosmtpd did not start"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        SmtpServer {
            port,
            maildir,
            child,
        }
    }

    fn new_mail(&self) -> PathBuf {
        self.maildir.path().join("maildir").join("new")
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn registration_mails_a_single_use_verification_link() {
    let server = TestServer::start().await;
    let amy = server.register("amy").await;
    assert_eq!(
        me(&server, &amy.access_token).await["data"]["me"]["emailVerified"],
        false
    );
    let mails = wait_for_mails(&server.data_path().join("outbox"), 1).await;
    assert!(mails[0].contains("To: amy@example.com"), "{}", mails[0]);
    assert!(mails[0].contains("Subject: Confirm your email for RealTalk"));
    assert!(mails[0].contains("text/html"), "a plain and an HTML part");
    let token = token_in(&mails[0], "/verify-email");
    let db = rusqlite::Connection::open(server.data_path().join("realtalk.db")).expect("db");
    let stored_plain: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM account_tokens WHERE token_hash = ?1 OR email = ?1",
            [&token],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(stored_plain, 0, "tokens are stored only as hashes");

    let verify = "mutation($t: String!) { verifyEmail(token: $t) }";
    let verified = server.gql(None, verify, json!({ "t": token })).await;
    assert_no_errors(&verified);
    assert_eq!(
        me(&server, &amy.access_token).await["data"]["me"]["emailVerified"],
        true
    );
    let again = server.gql(None, verify, json!({ "t": token })).await;
    assert_code(&again, "BAD_USER_INPUT");
    assert_eq!(error_field(&again), Some("token"));
    let resend = server
        .gql(
            Some(&amy.access_token),
            "mutation { resendVerificationEmail }",
            json!({}),
        )
        .await;
    assert_code(&resend, "BAD_USER_INPUT");

    // An expired link does not work.
    let bob = server.register("bob").await;
    db.execute(
        "UPDATE account_tokens SET expires_at = 0 WHERE used_at IS NULL",
        [],
    )
    .expect("expire");
    let mails = wait_for_mails(&server.data_path().join("outbox"), 2).await;
    let bob_mail = mails
        .iter()
        .find(|mail| mail.contains("To: bob@example.com"))
        .expect("bob's mail");
    let expired = server
        .gql(
            None,
            verify,
            json!({ "t": token_in(bob_mail, "/verify-email") }),
        )
        .await;
    assert_code(&expired, "BAD_USER_INPUT");
    let resent = server
        .gql(
            Some(&bob.access_token),
            "mutation { resendVerificationEmail }",
            json!({}),
        )
        .await;
    assert_no_errors(&resent);
    let mails = wait_for_mails(&server.data_path().join("outbox"), 3).await;
    let fresh = mails
        .iter()
        .rev()
        .find(|mail| mail.contains("To: bob@example.com"))
        .expect("new mail");
    assert_no_errors(
        &server
            .gql(
                None,
                verify,
                json!({ "t": token_in(fresh, "/verify-email") }),
            )
            .await,
    );
}

#[tokio::test]
async fn password_reset_over_real_smtp_is_single_use_and_ends_every_session() {
    let smtp = SmtpServer::start();
    let server =
        TestServer::start_with(&["--smtp-url", &format!("smtp://127.0.0.1:{}", smtp.port)]).await;
    let amy = server.register("amy").await;
    wait_for_mails(&smtp.new_mail(), 1).await; // the verification mail

    let request = "mutation($e: String!) { requestPasswordReset(email: $e) }";
    let known = server
        .gql(None, request, json!({ "e": "AMY@example.com" }))
        .await;
    let unknown = server
        .gql(None, request, json!({ "e": "nobody@example.com" }))
        .await;
    assert_eq!(
        known, unknown,
        "the same answer whether or not the address exists"
    );
    let mails = wait_for_mails(&smtp.new_mail(), 2).await;
    let reset_mails: Vec<&String> = mails
        .iter()
        .filter(|mail| mail.contains("Reset your RealTalk password"))
        .collect();
    assert_eq!(
        reset_mails.len(),
        1,
        "only the existing account gets a mail"
    );
    let token = token_in(reset_mails[0], "/reset-password");

    let reset = "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }";
    let short = server
        .gql(None, reset, json!({ "t": token, "p": "short" }))
        .await;
    assert_code(&short, "BAD_USER_INPUT");
    assert_no_errors(
        &server
            .gql(
                None,
                reset,
                json!({ "t": token, "p": "a brand new password" }),
            )
            .await,
    );
    assert_code(&me(&server, &amy.access_token).await, "UNAUTHENTICATED");
    assert_code(&server.refresh(&amy.refresh_token).await, "UNAUTHENTICATED");
    assert_code(&server.login("amy", PASSWORD).await, "UNAUTHENTICATED");
    assert_no_errors(&server.login("amy", "a brand new password").await);
    assert_code(
        &server
            .gql(
                None,
                reset,
                json!({ "t": token, "p": "yet another password" }),
            )
            .await,
        "BAD_USER_INPUT",
    );

    // Expiry: a link older than 30 minutes is refused.
    server
        .gql(None, request, json!({ "e": "amy@example.com" }))
        .await;
    let mails = wait_for_mails(&smtp.new_mail(), 3).await;
    let latest = mails
        .iter()
        .rev()
        .find(|mail| mail.contains("/reset-password"))
        .expect("reset mail");
    let db = rusqlite::Connection::open(server.data_path().join("realtalk.db")).expect("db");
    db.execute(
        "UPDATE account_tokens SET expires_at = 0 WHERE used_at IS NULL",
        [],
    )
    .expect("expire");
    let late = server
        .gql(
            None,
            reset,
            json!({ "t": token_in(latest, "/reset-password"), "p": "too late for this" }),
        )
        .await;
    assert_code(&late, "BAD_USER_INPUT");

    // Requests are limited per address (5 an hour).
    let mut limited = false;
    for _ in 0..6 {
        if common::error_code(
            &server
                .gql(None, request, json!({ "e": "amy@example.com" }))
                .await,
        ) == Some("RATE_LIMITED")
        {
            limited = true;
        }
    }
    assert!(
        limited,
        "password reset requests are rate limited per address"
    );
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    let server = TestServer::start().await;
    let amy = server.register("amy").await;
    let other = common::account_from(&server.login("amy", PASSWORD).await["data"]["login"]);
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";
    let wrong = server
        .gql(
            Some(&amy.access_token),
            change,
            json!({ "c": "not it at all", "n": "new password here" }),
        )
        .await;
    assert_code(&wrong, "BAD_USER_INPUT");
    assert_eq!(error_field(&wrong), Some("currentPassword"));
    assert_no_errors(
        &server
            .gql(
                Some(&amy.access_token),
                change,
                json!({ "c": PASSWORD, "n": "new password here" }),
            )
            .await,
    );
    assert_no_errors(&me(&server, &amy.access_token).await);
    assert_code(&me(&server, &other.access_token).await, "UNAUTHENTICATED");
    assert_no_errors(&server.login("amy", "new password here").await);
}

#[tokio::test]
async fn changing_the_email_verifies_the_new_address_and_tells_the_old_one() {
    let server = TestServer::start().await;
    let amy = server.register("amy").await;
    let change = "mutation($e: String!, $p: String!) { changeEmail(newEmail: $e, password: $p) }";
    server.register("bob").await;
    let taken = server
        .gql(
            Some(&amy.access_token),
            change,
            json!({ "e": "bob@example.com", "p": PASSWORD }),
        )
        .await;
    assert_code(&taken, "CONFLICT");
    assert_no_errors(
        &server
            .gql(
                Some(&amy.access_token),
                change,
                json!({ "e": "amy@new.example", "p": PASSWORD }),
            )
            .await,
    );
    let mails = wait_for_mails(&server.data_path().join("outbox"), 4).await;
    assert!(
        mails
            .iter()
            .any(|mail| mail.contains("To: amy@example.com") && mail.contains("is being changed"))
    );
    let confirm = mails
        .iter()
        .find(|mail| mail.contains("To: amy@new.example"))
        .expect("mail to the new address");
    let still_old = me(&server, &amy.access_token).await;
    assert_eq!(
        still_old["data"]["me"]["email"], "amy@example.com",
        "unchanged until confirmed"
    );
    assert_no_errors(
        &server
            .gql(
                None,
                "mutation($t: String!) { verifyEmail(token: $t) }",
                json!({ "t": token_in(confirm, "/verify-email") }),
            )
            .await,
    );
    let now = me(&server, &amy.access_token).await;
    assert_eq!(now["data"]["me"]["email"], "amy@new.example");
    assert_eq!(now["data"]["me"]["emailVerified"], true);
    assert_no_errors(&server.login("amy@new.example", PASSWORD).await);
    assert_code(
        &server.login("amy@example.com", PASSWORD).await,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn a_deleted_account_leaves_readable_tombstones_and_frees_its_name_later() {
    let server = TestServer::start().await;
    let (amy, bob) = (server.register("amy").await, server.register("bob").await);
    server.befriend(&amy, &bob).await;
    let conversation = server.open_direct(&amy, &bob).await;
    server.send_ok(&bob, &conversation, "remember me").await;
    let form = reqwest::multipart::Form::new()
        .text("operations", json!({ "query": "mutation($f: Upload!) { uploadFile(file: $f) { id } }", "variables": { "f": null } }).to_string())
        .text("map", json!({ "0": ["variables.f"] }).to_string())
        .part("0", reqwest::multipart::Part::bytes(b"bob's notes".to_vec()).file_name("notes.txt"));
    let uploaded: Value = server
        .client
        .post(server.url("/graphql"))
        .bearer_auth(&bob.access_token)
        .header("apollo-require-preflight", "true")
        .multipart(form)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    assert_no_errors(&uploaded);
    let delete = "mutation($p: String!) { deleteAccount(password: $p) }";
    assert_code(
        &server
            .gql(
                Some(&bob.access_token),
                delete,
                json!({ "p": "wrong password!" }),
            )
            .await,
        "BAD_USER_INPUT",
    );
    assert_no_errors(
        &server
            .gql(Some(&bob.access_token), delete, json!({ "p": PASSWORD }))
            .await,
    );
    assert_code(&me(&server, &bob.access_token).await, "UNAUTHENTICATED");
    assert_code(&server.login("bob", PASSWORD).await, "UNAUTHENTICATED");

    let page = server
        .gql(Some(&amy.access_token), "query($c: ID!) { messages(conversationId: $c) { nodes { body author { displayName deleted } } } }", json!({ "c": conversation }))
        .await;
    assert_no_errors(&page);
    let message = &page["data"]["messages"]["nodes"][0];
    assert_eq!(
        message["body"], "remember me",
        "conversations stay readable"
    );
    assert_eq!(
        message["author"],
        json!({ "displayName": "Deleted user", "deleted": true })
    );
    let friends = server
        .gql(Some(&amy.access_token), "{ friends { id } }", json!({}))
        .await;
    assert_eq!(friends["data"]["friends"], json!([]));
    let db = rusqlite::Connection::open(server.data_path().join("realtalk.db")).expect("db");
    let uploads: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM attachments WHERE uploader_id = ?1",
            [&bob.id],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(uploads, 0, "uploads are removed");

    let again = server
        .gql(None, "mutation { register(input: { username: \"bob\", email: \"bob2@example.com\", password: \"a good password\" }) { accessToken } }", json!({}))
        .await;
    assert_code(&again, "CONFLICT");
    db.execute("UPDATE released_usernames SET available_at = 0", [])
        .expect("cool-down over");
    let later = server
        .gql(None, "mutation { register(input: { username: \"bob\", email: \"bob2@example.com\", password: \"a good password\" }) { accessToken } }", json!({}))
        .await;
    assert_no_errors(&later);
}

#[tokio::test]
async fn the_policy_can_require_a_verified_email_to_send() {
    let server = TestServer::start_with(&["--require-verified-email", "true"]).await;
    let (amy, bob) = (server.register("amy").await, server.register("bob").await);
    server.befriend(&amy, &bob).await;
    let conversation = server.open_direct(&amy, &bob).await;
    assert_code(
        &server.send(&amy, &conversation, "too early").await,
        "FORBIDDEN",
    );
    let mails = wait_for_mails(&server.data_path().join("outbox"), 2).await;
    let mail = mails
        .into_iter()
        .find(|mail| mail.contains("To: amy@example.com"))
        .expect("mail");
    assert_no_errors(
        &server
            .gql(
                None,
                "mutation($t: String!) { verifyEmail(token: $t) }",
                json!({ "t": token_in(&mail, "/verify-email") }),
            )
            .await,
    );
    server.send_ok(&amy, &conversation, "verified now").await;
}
