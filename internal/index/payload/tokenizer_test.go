package payload

import (
	"slices"
	"strings"
	"testing"
)

func TestTokenizer(t *testing.T) {
	cases := []struct {
		name, schema, text string
		doc, query         string // tokens joined by "|"; query "" means same as doc
	}{
		{"word", `{"type":"text"}`, "hello, world! Привет, мир!", "hello|world|привет|мир", ""},
		{"word keeps case", `{"type":"text","lowercase":false}`, "Hello, Мир", "Hello|Мир", ""},
		{"word splits on punctuation", `"text"`, "it's foo-bar_baz e-mail@x.io", "it|s|foo|bar|baz|e|mail|x|io", ""},
		{"word unicode numbers", `"text"`, "x²y 42 ٣٤ Ⅻ", "x²y|42|٣٤|ⅻ", ""},
		// Vowel signs are Other_Alphabetic and stay in the word; the virama
		// is not alphabetic in Unicode, so Rust's is_alphanumeric splits there.
		{"word combining marks", `"text"`, "हिन्दी नमस्ते", "हिन|दी|नमस|ते", ""},
		{"whitespace", `{"type":"text","tokenizer":"whitespace"}`, "Hello  world\tfoo-bar\u00a0x", "hello|world|foo-bar|x", ""},
		{"prefix", `{"type":"text","tokenizer":"prefix","min_token_len":1,"max_token_len":4}`, "hello, мир!", "h|he|hel|hell|м|ми|мир", "hell|мир"},
		{"prefix defaults", `{"type":"text","tokenizer":"prefix"}`, "Cat", "c|ca|cat", "cat"},
		{"prefix min", `{"type":"text","tokenizer":"prefix","min_token_len":3}`, "he hello", "hel|hell|hello", "hello"},
		{"prefix stopwords only on documents", `{"type":"text","tokenizer":"prefix","min_token_len":2,"stopwords":"english"}`, "the theory", "th|the|theo|theor|theory", "the|theory"},
		{"stopwords english", `{"type":"text","stopwords":"english"}`, "The quick brown fox and THE dog", "quick|brown|fox|dog", ""},
		{"stopwords custom lowercased", `{"type":"text","stopwords":{"custom":["Hello"]}}`, "hello HELLO world", "world", ""},
		{"stopwords case sensitive", `{"type":"text","lowercase":false,"stopwords":{"custom":["Hello"]}}`, "Hello hello", "hello", ""},
		{"stopwords set", `{"type":"text","stopwords":{"languages":["english","spanish"],"custom":["fox"]}}`, "the fox y el perro", "perro", ""},
		{"stopwords other language", `{"type":"text","stopwords":"german"}`, "der Hund und die Katze", "hund|katze", ""},
		{"min and max length", `{"type":"text","min_token_len":3,"max_token_len":5}`, "a abc abcdef abcde", "abc|abcde", ""},
		{"length in characters", `{"type":"text","max_token_len":3}`, "мир мира", "мир", ""},
		{"ascii folding", `{"type":"text","ascii_folding":true}`, "Ação Ñandú straße Œuvre Hà Nội", "acao|nandu|strasse|oeuvre|ha|noi", ""},
		{"no folding by default", `"text"`, "ação", "ação", ""},
		{"final sigma", `"text"`, "ΟΔΟΣ ΣΑΣ Σ", "οδος|σας|σ", ""},
		{"dotted capital I", `"text"`, "İstanbul", "i\u0307stanbul", ""},
		{"multilingual latin", `{"type":"text","tokenizer":"multilingual"}`, "What are you waiting for? Café 2430 A.D.", "what|are|you|waiting|for|cafe|a|d", ""},
		{"multilingual chinese", `{"type":"text","tokenizer":"multilingual"}`, "今天是星期一", "今|天|是|星|期|一", ""},
		{"multilingual japanese", `{"type":"text","tokenizer":"multilingual"}`, "これはテストです", "これは|テスト|です", ""},
		{"multilingual stopwords", `{"type":"text","tokenizer":"multilingual","stopwords":{"custom":["是"]}}`, "今天是星期一", "今|天|星|期|一", ""},
		{"empty", `"text"`, " ,.; ", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := NewTokenizer(mustSchema(t, c.schema))
			if got := strings.Join(tk.Tokens(c.text), "|"); got != c.doc {
				t.Errorf("document tokens %q, want %q", got, c.doc)
			}
			want := c.query
			if want == "" {
				want = c.doc
			}
			if got := strings.Join(tk.QueryTokens(c.text), "|"); got != want {
				t.Errorf("query tokens %q, want %q", got, want)
			}
		})
	}
}

func TestStopwordLists(t *testing.T) {
	// One common word per language, as Qdrant's own test checks.
	common := map[string]string{
		"arabic": "في", "azerbaijani": "və", "basque": "eta", "bengali": "এবং", "catalan": "i",
		"chinese": "的", "danish": "og", "dutch": "en", "english": "and", "finnish": "ja",
		"french": "et", "german": "und", "greek": "και", "hebrew": "את", "hinglish": "aur",
		"hungarian": "és", "indonesian": "dan", "italian": "e", "japanese": "の", "kazakh": "жоқ",
		"nepali": "र", "norwegian": "og", "portuguese": "e", "romanian": "ar", "russian": "и",
		"slovene": "in", "spanish": "y", "swedish": "och", "tajik": "ва", "turkish": "ve",
	}
	seen := map[string]bool{}
	for name, lang := range stopwordLanguages {
		if name != lang {
			continue
		}
		seen[lang] = true
		set := stopwordSet(&Stopwords{Language: lang}, true)
		if _, ok := set[common[lang]]; !ok {
			t.Errorf("%s: %q is not a stopword", lang, common[lang])
		}
		if _, ok := set["qdrant"]; ok {
			t.Errorf("%s: qdrant is a stopword", lang)
		}
	}
	if len(seen) != 30 {
		t.Errorf("%d languages, want 30", len(seen))
	}
	english := strings.Fields(languageStopwords["english"])
	if len(english) != 179 || !slices.Contains(english, "mustn't") {
		t.Errorf("english list has %d words", len(english))
	}
}

func TestFoldTables(t *testing.T) {
	if len(latin1Fold) != 64 || len(latinExtAFold) != 128 {
		t.Fatalf("fold tables: %d, %d", len(latin1Fold), len(latinExtAFold))
	}
	cases := map[string]string{
		"ÀÉÎÕÜ": "AEIOU", "àéîõü": "aeiou", "Łódź": "Lodz", "ĳ": "ij", "ſ": "s", "ș ț": "s t",
		"Ẫ ỹ": "A y", "ﬁ": "fi", "×÷": "×÷", "日本": "日本", "plain": "plain",
	}
	for in, want := range cases {
		if got := foldASCII(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
}
