package payload

import "strings"

// stopwordLanguages maps Qdrant's Language names and aliases to the
// canonical name.
var stopwordLanguages = map[string]string{}

func init() {
	for _, l := range []struct{ name, alias string }{
		{"arabic", "ar"}, {"azerbaijani", "az"}, {"basque", "eu"}, {"bengali", "bn"},
		{"catalan", "ca"}, {"chinese", "zh"}, {"danish", "da"}, {"dutch", "nl"},
		{"english", "en"}, {"finnish", "fi"}, {"french", "fr"}, {"german", "de"},
		{"greek", "el"}, {"hebrew", "he"}, {"hinglish", "hi-en"}, {"hungarian", "hu"},
		{"indonesian", "id"}, {"italian", "it"}, {"japanese", "jp"}, {"kazakh", "kk"},
		{"nepali", "ne"}, {"norwegian", "no"}, {"portuguese", "pt"}, {"romanian", "ro"},
		{"russian", "ru"}, {"slovene", "sl"}, {"spanish", "es"}, {"swedish", "sv"},
		{"tajik", "tg"}, {"turkish", "tr"},
	} {
		stopwordLanguages[l.name] = l.name
		stopwordLanguages[l.alias] = l.name
	}
}

func stopwordLanguage(name string) (string, bool) {
	l, ok := stopwordLanguages[name]
	return l, ok
}

// languageStopwords holds the built-in lists, space-separated. English is
// the full list Qdrant ships (NLTK's); the other languages carry the most
// frequent function words only, an approximation of Qdrant's longer lists.
var languageStopwords = map[string]string{
	"english": `i me my myself we our ours ourselves you you're you've you'll you'd
		your yours yourself yourselves he him his himself she she's her hers herself it
		it's its itself they them their theirs themselves what which who whom this that
		that'll these those am is are was were be been being have has had having do does
		did doing a an the and but if or because as until while of at by for with about
		against between into through during before after above below to from up down in
		out on off over under again further then once here there when where why how all
		any both each few more most other some such no nor not only own same so than too
		very s t can will just don don't should should've now d ll m o re ve y ain aren
		aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't haven
		haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't
		shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't`,
	"arabic":      `في من على إلى عن أن إن ما لا هذا هذه ذلك التي الذي هو هي كان قد مع و أو ثم كل بعد`,
	"azerbaijani": `və ki bu da də ilə bir o üçün amma ya həm belə çox ən isə`,
	"basque":      `eta ez da ere bat baina edo hau hori zen dira du dute izan`,
	"bengali":     `এবং ও এই সে যে না কি তার এক করে হয় থেকে জন্য আর`,
	"catalan":     `i el la els les de del a en que un una per amb no es és al com més o però`,
	"chinese":     `的 了 在 是 我 有 和 就 不 人 都 一 一个 上 也 很 到 说 要 去 你 会 着 没有 看 好 这 那`,
	"danish":      `og i jeg det at en den til er som på de med han af for ikke der var mig sig men et har om vi min havde`,
	"dutch":       `de en van ik te dat die in een hij het niet zijn is was op aan met als voor had er maar om hem dan zou of wat`,
	"finnish":     `ja on ei se että hän oli ole olla mutta kun tai kuin myös jos nyt vain niin`,
	"french":      `au aux avec ce ces dans de des du elle en et eux il je la le les leur lui ma mais me même mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c d j l à m n s t y été est`,
	"german":      `aber alle als also am an auch auf aus bei bin bis bist da damit dann der den des dem die das dass du er es ein eine einem einen einer eines für hatte hat ich ihr im in ist ja kein man mit nach nicht noch nun oder sie sind so über um und uns von vor war was wenn wie wir zu zum zur`,
	"greek":       `και το η ο της του τα των σε να με για από που στο στην θα δεν είναι ένα μια`,
	"hebrew":      `את של על עם זה הוא היא לא כי אם גם או אבל יש אני הם`,
	"hinglish":    `aur hai hain ka ki ke ko se mein main bhi ye yeh wo woh to tha thi nahi kya`,
	"hungarian":   `a az és egy hogy nem is de meg el van volt ez azt csak mint`,
	"indonesian":  `dan yang di ke dari ini itu dengan untuk tidak ada adalah akan pada juga atau`,
	"italian":     `ad al allo ai agli alla alle con col da dal dallo dai dagli dalla dalle di del dello dei degli della delle in nel nello nei negli nella nelle su sul sullo sui sugli sulla sulle per tra contro io tu lui lei noi voi loro il lo la i gli le un uno una e ed o ma che non come se è`,
	"japanese":    `の に は を た が で て と し れ さ ある いる も する から な こと として い や れる など ない この ため その`,
	"kazakh":      `жоқ және мен бұл сол да де ол біз сен бар емес үшін`,
	"nepali":      `र पनि छ हो को का की मा ले लाई यो त्यो`,
	"norwegian":   `og i jeg det at en et den til er som på de med han av ikke der så var meg seg men har om vi min`,
	"portuguese":  `de a o que e do da em um para com não uma os no se na por mais as dos como mas ao ele das à seu sua ou`,
	"romanian":    `ar și în la de cu pe un o care nu este mai din pentru ca sau`,
	"russian":     `и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от меня еще нет о из ему`,
	"slovene":     `in je da se na v za z pa ki so ne bi tudi kot`,
	"spanish":     `de la que el en y a los del se las por un para con no una su al lo como más pero sus le ya o este sí porque esta entre cuando muy sin sobre`,
	"swedish":     `och det att i en jag hon som han på den med var sig för så till är men ett om hade de av icke mig du henne då sin nu har inte`,
	"tajik":       `ва дар бо аз ба ки то ин он ҳам барои`,
	"turkish":     `ve bir bu da de için ile çok ama gibi daha ne o ki mi`,
}

// stopwordSet builds the set a text index filters with. As in Qdrant, the
// words are lowercased when the index lowercases, so matching is
// case-insensitive then.
func stopwordSet(sw *Stopwords, lowercase bool) map[string]struct{} {
	if sw == nil {
		return nil
	}
	set := map[string]struct{}{}
	add := func(w string) {
		if lowercase {
			w = toLowerRust(w)
		}
		set[w] = struct{}{}
	}
	addLang := func(lang string) {
		for _, w := range strings.Fields(languageStopwords[lang]) {
			add(w)
		}
	}
	if sw.Language != "" {
		addLang(sw.Language)
	}
	for _, l := range sw.Languages {
		addLang(l)
	}
	for _, w := range sw.Custom {
		add(w)
	}
	return set
}
