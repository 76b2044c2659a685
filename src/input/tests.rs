use super::*;

/// Issue 7 (fuzzing): a TOML error reported at a value whose key follows a
/// multi-byte character sliced the text inside that character and panicked.
#[test]
fn issue7_a_multibyte_character_before_a_key_is_an_error_not_a_panic() {
    for text in ["['']\u{692}gsize =  ", "['l]\u{692}g="] {
        let e = parse("s.toml", text).unwrap_err();
        assert_eq!(e.location.map(|(line, _)| line), Some(1), "{e}");
        assert!(!e.message.is_empty());
    }
    assert_eq!(key_before("x\u{692}gsize = ", "x\u{692}gsize = ".len()).as_deref(), Some("gsize"));
}
