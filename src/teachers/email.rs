//! An e-mail address as a clerk typed it into a roster: checked once, kept in one canonical form
//! (lower case, ASCII), or refused with a reason the clerk can act on. No I/O, no DNS lookup: a
//! well-formed address that does not exist shows up later as a failed invitation.
//!
//! What is accepted is deliberately narrower than RFC 5321 allows — `name@domain.tld` with the
//! characters real schools' mail providers (qq.com, 163.com, the bureau's own) hand out — because
//! an address outside that set in a roster is nearly always a typing slip, not an exotic mailbox.

/// The longest address SMTP carries (RFC 5321: 254 characters in a path).
const MAX_LENGTH: usize = 254;
/// The longest part before the `@` (RFC 5321).
const MAX_LOCAL_LENGTH: usize = 64;
/// The longest label between dots in a domain (RFC 1035).
const MAX_LABEL_LENGTH: usize = 63;

/// Reads `typed` as an address: surrounding spaces dropped, full-width letters, digits and
/// symbols typed with a Chinese input method (`ｌｉ＠１６３．ｃｏｍ`, `。` for the dot) made ASCII,
/// everything lower case. `Err` says what is wrong, naming the address as typed.
pub fn parse_email(typed: &str) -> Result<String, String> {
    let trimmed = typed.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
    if trimmed.is_empty() {
        return Err("邮箱为空".to_owned());
    }
    let address: String = trimmed
        .chars()
        .map(half_width)
        .collect::<String>()
        .to_lowercase();
    let wrong = |why: &str| Err(format!("邮箱\"{trimmed}\"{why}"));

    if address.chars().any(char::is_whitespace) {
        return wrong("中间有空格，请删去空格");
    }
    if !address.is_ascii() {
        return wrong("含有中文或其他无法用于邮箱的字符，请检查是否填错了列");
    }
    if address.chars().count() > MAX_LENGTH {
        return wrong("太长，请核对");
    }
    let Some((local, domain)) = address.split_once('@') else {
        return wrong("缺少 @，应写成 zhangsan@qq.com 这样的格式");
    };
    if domain.contains('@') {
        return wrong("含有不止一个 @，一格只能填一个邮箱");
    }
    if local.is_empty() {
        return wrong("@ 前面是空的");
    }
    if local.len() > MAX_LOCAL_LENGTH {
        return wrong("@ 前面的部分太长，请核对");
    }
    if !local.chars().all(is_local_char) {
        return wrong("@ 前面含有邮箱中不能使用的符号");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return wrong("@ 前面的点（.）位置不对");
    }
    if domain.is_empty() {
        return wrong("@ 后面缺少域名（如 qq.com、163.com）");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|label| label.is_empty()) {
        return wrong("@ 后面的域名不完整（应如 qq.com、163.com）");
    }
    for label in &labels {
        let valid = label.len() <= MAX_LABEL_LENGTH
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !valid {
            return wrong("@ 后面的域名含有不能使用的符号");
        }
    }
    let top = labels[labels.len() - 1];
    let top_is_name = top.len() >= 2 && top.chars().all(|c| c.is_ascii_alphabetic());
    if !top_is_name && !top.starts_with("xn--") {
        return wrong("@ 后面的域名结尾不对（应如 .com、.cn、.edu.cn）");
    }
    Ok(address)
}

/// The characters a mailbox name may hold (RFC 5322's `atext`, and the dot).
fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c)
}

/// A full-width form (U+FF01–FF5E) as its ASCII twin, and the ideographic full stop as a dot.
fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '。' => '.',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_email;

    #[test]
    fn ordinary_addresses_are_kept_in_lower_case() {
        assert_eq!(
            parse_email("zhangsan@qq.com").as_deref(),
            Ok("zhangsan@qq.com")
        );
        assert_eq!(
            parse_email("  Li.Wei+duping@Shimen.EDU.cn ").as_deref(),
            Ok("li.wei+duping@shimen.edu.cn")
        );
        assert_eq!(
            parse_email("13800138000@163.com").as_deref(),
            Ok("13800138000@163.com")
        );
        assert_eq!(
            parse_email("a@xn--fiqs8s.xn--fiqs8s").as_deref(),
            Ok("a@xn--fiqs8s.xn--fiqs8s")
        );
    }

    #[test]
    fn full_width_characters_typed_with_a_chinese_input_method_are_read() {
        assert_eq!(
            parse_email("ｌｉ＠１６３．ｃｏｍ").as_deref(),
            Ok("li@163.com")
        );
        assert_eq!(parse_email("li@163。com").as_deref(), Ok("li@163.com"));
        assert_eq!(
            parse_email("\u{3000}li@163.com\u{3000}").as_deref(),
            Ok("li@163.com")
        );
    }

    #[test]
    fn each_kind_of_mistake_gets_its_own_reason() {
        let reason = |typed: &str| parse_email(typed).expect_err(typed);
        assert_eq!(reason(""), "邮箱为空");
        assert_eq!(reason("   "), "邮箱为空");
        assert!(reason("zhangsan.qq.com").contains("缺少 @"));
        assert!(reason("zhang san@qq.com").contains("空格"));
        assert!(reason("张三@qq.com").contains("中文"));
        assert!(reason("a@b@qq.com").contains("不止一个 @"));
        assert!(reason("@qq.com").contains("@ 前面是空的"));
        assert!(reason("zhangsan@").contains("缺少域名"));
        assert!(reason("zhangsan@qq").contains("域名不完整"));
        assert!(reason("zhangsan@qq..com").contains("域名不完整"));
        assert!(reason("zhangsan@qq.c0m").contains("结尾不对"));
        assert!(reason("zhangsan@-qq.com").contains("不能使用的符号"));
        assert!(reason("zhang..san@qq.com").contains("点"));
        assert!(reason(".zhangsan@qq.com").contains("点"));
        assert!(reason("zhang(san)@qq.com").contains("符号"));
        assert!(reason(&format!("{}@qq.com", "a".repeat(65))).contains("太长"));
        assert!(reason(&format!("a@{}.com", "b".repeat(64))).contains("符号"));
    }

    #[test]
    fn the_reason_names_the_address_as_typed() {
        assert_eq!(
            parse_email(" zhangsan.qq.com ").expect_err("no @"),
            "邮箱\"zhangsan.qq.com\"缺少 @，应写成 zhangsan@qq.com 这样的格式"
        );
    }
}
