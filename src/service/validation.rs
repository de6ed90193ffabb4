//! Input rules for accounts, in one place. Each check names the field the
//! client sent, so errors can say exactly what to fix.

use crate::error::{AppError, AppResult};

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const DISPLAY_NAME_MAX: usize = 64;
pub const EMAIL_MAX: usize = 254;

/// Lower-cases a username and checks it is 3–32 of `[a-z0-9_.]`.
pub fn username(raw: &str) -> AppResult<String> {
    let username = raw.trim().to_lowercase();
    let length = username.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&length) {
        return Err(AppError::bad_input(
            "username",
            format!("username must be {USERNAME_MIN}–{USERNAME_MAX} characters"),
        ));
    }
    if !username
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
    {
        return Err(AppError::bad_input(
            "username",
            "username may contain only letters a–z, digits, '_' and '.'",
        ));
    }
    Ok(username)
}

/// Trims and lower-cases an email address and checks its shape:
/// one `@`, a non-empty local part, a dotted domain, no whitespace.
pub fn email(raw: &str) -> AppResult<String> {
    let email = raw.trim().to_lowercase();
    let invalid = || AppError::bad_input("email", "email must be an address like name@example.com");
    if email.len() > EMAIL_MAX || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(invalid());
    };
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty());
    if local.is_empty() || !domain_ok {
        return Err(invalid());
    }
    Ok(email)
}

/// Checks a new password's length (8–128 characters); no composition rules,
/// as NIST SP 800-63B recommends.
pub fn new_password(password: &str) -> AppResult<()> {
    let length = password.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&length) {
        return Err(AppError::bad_input(
            "password",
            format!("password must be {PASSWORD_MIN}–{PASSWORD_MAX} characters"),
        ));
    }
    Ok(())
}

/// Refuses an over-long presented password before any hashing work is done.
pub fn presented_password(password: &str) -> AppResult<()> {
    if password.chars().count() > PASSWORD_MAX {
        return Err(AppError::bad_input(
            "password",
            format!("password must be at most {PASSWORD_MAX} characters"),
        ));
    }
    Ok(())
}

/// Trims a display name and checks it is 1–64 characters without control characters.
pub fn display_name(raw: &str) -> AppResult<String> {
    let name = raw.trim().to_owned();
    let length = name.chars().count();
    if length == 0 || length > DISPLAY_NAME_MAX {
        return Err(AppError::bad_input(
            "displayName",
            format!("displayName must be 1–{DISPLAY_NAME_MAX} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            "displayName",
            "displayName may not contain control characters",
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_folded_and_restricted() {
        assert_eq!(username(" Alice_01.x ").ok().as_deref(), Some("alice_01.x"));
        for bad in ["ab", "a b c", "émile", "x".repeat(33).as_str(), "dash-ed"] {
            assert_eq!(
                username(bad).map_err(|e| e.field),
                Err(Some("username")),
                "{bad}"
            );
        }
    }

    #[test]
    fn emails_are_normalised_and_shaped() {
        assert_eq!(
            email(" Bob@Example.COM ").ok().as_deref(),
            Some("bob@example.com")
        );
        for bad in [
            "bob",
            "@x.io",
            "bob@",
            "bob@localhost",
            "a@b@c.io",
            "b ob@x.io",
            "bob@x..io",
        ] {
            assert_eq!(email(bad).map_err(|e| e.field), Err(Some("email")), "{bad}");
        }
    }

    #[test]
    fn passwords_have_length_rules_only() {
        assert!(new_password("12345678").is_ok());
        assert!(new_password("1234567").is_err());
        assert!(new_password(&"p".repeat(128)).is_ok());
        assert!(new_password(&"p".repeat(129)).is_err());
        assert!(presented_password(&"p".repeat(129)).is_err());
    }

    // Fuzzing: any string at all gets an answer, never a panic; refusals
    // are BAD_USER_INPUT on the right field; what is accepted is canonical
    // (validating it again changes nothing) and obeys the stated rules.
    proptest::proptest! {
        #[test]
        fn any_username_is_refused_or_canonical(raw in "\\PC*|[A-Za-z0-9_. ]{0,40}") {
            match username(&raw) {
                Ok(name) => {
                    proptest::prop_assert_eq!(username(&name).ok(), Some(name.clone()));
                    proptest::prop_assert!((USERNAME_MIN..=USERNAME_MAX).contains(&name.len()));
                }
                Err(error) => proptest::prop_assert_eq!(error.field, Some("username")),
            }
        }

        #[test]
        fn any_email_is_refused_or_canonical(raw in "\\PC*|[a-zA-Z.]{0,10}@[a-z.]{0,10}") {
            match email(&raw) {
                Ok(address) => {
                    proptest::prop_assert_eq!(email(&address).ok(), Some(address.clone()));
                    proptest::prop_assert_eq!(address.matches('@').count(), 1);
                }
                Err(error) => proptest::prop_assert_eq!(error.field, Some("email")),
            }
        }

        #[test]
        fn any_display_name_is_refused_or_clean(raw in "(\\PC|\\p{Cc})*") {
            match display_name(&raw) {
                Ok(name) => {
                    proptest::prop_assert!(!name.chars().any(char::is_control));
                    proptest::prop_assert!((1..=DISPLAY_NAME_MAX).contains(&name.chars().count()));
                }
                Err(error) => proptest::prop_assert_eq!(error.field, Some("displayName")),
            }
        }

        #[test]
        fn any_password_gets_a_length_answer(raw in "\\PC{0,200}") {
            let length = raw.chars().count();
            proptest::prop_assert_eq!(new_password(&raw).is_ok(), (PASSWORD_MIN..=PASSWORD_MAX).contains(&length));
            proptest::prop_assert_eq!(presented_password(&raw).is_ok(), length <= PASSWORD_MAX);
        }
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(display_name("  Ann  ").ok().as_deref(), Some("Ann"));
        assert!(display_name("   ").is_err());
        assert!(display_name(&"n".repeat(65)).is_err());
        assert!(display_name("bad\u{7}").is_err());
    }
}
