//! The mails RealTalk sends, each in plain text and HTML.

/// A composed mail, not yet addressed.
#[derive(Debug, Clone)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Escapes text for HTML bodies.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_page(heading: &str, paragraphs: &[String], link: Option<(&str, &str)>) -> String {
    let mut body = format!("<h1 style=\"font-size:20px\">{}</h1>", escape(heading));
    for paragraph in paragraphs {
        body.push_str(&format!("<p>{}</p>", escape(paragraph)));
    }
    if let Some((label, url)) = link {
        body.push_str(&format!(
            "<p><a href=\"{0}\" style=\"background:#3b5bdb;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none\">{1}</a></p><p style=\"color:#666;font-size:12px\">{0}</p>",
            escape(url),
            escape(label)
        ));
    }
    format!(
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5;max-width:560px\">{body}<p style=\"color:#666;font-size:12px\">RealTalk</p></body></html>"
    )
}

pub fn verify_email(display_name: &str, link: &str) -> Composed {
    let hello = format!("Hi {display_name},");
    let ask =
        "Please confirm your email address for RealTalk. The link works for 24 hours.".to_owned();
    Composed {
        subject: "Confirm your email for RealTalk".into(),
        text: format!("{hello}\n\n{ask}\n\n{link}\n\nIf you did not sign up, ignore this mail.\n"),
        html: html_page(
            "Confirm your email",
            &[hello, ask],
            Some(("Confirm email", link)),
        ),
    }
}

pub fn password_reset(display_name: &str, link: &str) -> Composed {
    let hello = format!("Hi {display_name},");
    let ask = "Someone asked to reset your RealTalk password. The link works once, for 30 minutes; using it signs you out everywhere.".to_owned();
    Composed {
        subject: "Reset your RealTalk password".into(),
        text: format!(
            "{hello}\n\n{ask}\n\n{link}\n\nIf it was not you, ignore this mail: your password stays as it is.\n"
        ),
        html: html_page(
            "Reset your password",
            &[hello, ask],
            Some(("Choose a new password", link)),
        ),
    }
}

pub fn email_change_notice(display_name: &str, new_email: &str) -> Composed {
    let hello = format!("Hi {display_name},");
    let notice = format!(
        "Someone asked to change the email of your RealTalk account to {new_email}. It changes once the new address is confirmed."
    );
    let advice = "If it was not you, change your password now.".to_owned();
    Composed {
        subject: "Your RealTalk email is being changed".into(),
        text: format!("{hello}\n\n{notice}\n\n{advice}\n"),
        html: html_page("Email change requested", &[hello, notice, advice], None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_in_html() {
        let mail = verify_email("<b>Eve</b>", "https://chat.example/verify?token=abc");
        assert!(mail.html.contains("&lt;b&gt;Eve&lt;/b&gt;"));
        assert!(mail.text.contains("https://chat.example/verify?token=abc"));
    }
}
