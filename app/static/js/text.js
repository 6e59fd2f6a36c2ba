// The words the reporter's page scripts show, in the page's language. The server renders them
// from the same catalogues as the page (app/languages.py) into the page's
// <meta name="candor-words">, next to the labels of app/vocabulary.py; the messages are found
// in these scripts by the catalogues' extraction (every t("...") and N_("...")), so no list of
// them is kept here. English is the key, and what a page without a catalogue shows.
const meta = typeof document === "undefined"
  ? null : document.querySelector('meta[name="candor-words"]');
export const WORDS = JSON.parse(meta?.content ?? "{}");
const TEXT = WORDS.text ?? {};

/**
 * `message` in the page's language, its `%(name)s` placeholders filled from `values` and each
 * `%%` made `%` (the catalogues' python-format, so both sides check the same placeholders).
 */
export function t(message, values = {}) {
  return (TEXT[message] ?? message).replace(/%\((\w+)\)s|%%/g, (whole, name) => {
    if (whole === "%%") return "%";
    return name in values ? String(values[name]) : whole;
  });
}

/** Marks `message` for the catalogues where it is defined; `t(message)` where it is shown. */
export const N_ = (message) => message;
