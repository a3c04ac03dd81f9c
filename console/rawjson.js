// rawjson: JSON text read as text, so a payload is shown and edited exactly
// as herald stores and sends it. JSON.parse would turn 12345678901234567890
// into 12345678901234567000 and 1.50 into 1.5; here every literal keeps its
// bytes, and only the whitespace between them changes.

// Returns [start, end) of the value at PATH (member names) in TEXT, a valid
// JSON document, or null.
export function spanOf(text, path) {
  let position = 0;
  const skipSpace = () => { while (/\s/.test(text[position] || "")) position++; };
  const skipString = () => {
    for (position++; position < text.length; position++) {
      if (text[position] === "\\") position++;
      else if (text[position] === '"') { position++; return; }
    }
  };
  const skipValue = () => {
    skipSpace();
    const start = position;
    const c = text[position];
    if (c === '"') skipString();
    else if (c === "{" || c === "[") {
      let depth = 0;
      for (; position < text.length; position++) {
        const d = text[position];
        if (d === '"') { skipString(); position--; }
        else if (d === "{" || d === "[") depth++;
        else if (d === "}" || d === "]") { if (--depth === 0) { position++; break; } }
      }
    } else {
      while (position < text.length && !/[\s,}\]]/.test(text[position])) position++;
    }
    return [start, position];
  };
  let span = [0, text.length];
  for (const name of path) {
    position = span[0];
    skipSpace();
    if (text[position] !== "{") return null;
    position++;
    let found = null;
    for (;;) {
      skipSpace();
      if (text[position] !== '"') return null;
      const keyStart = position;
      skipString();
      const key = JSON.parse(text.slice(keyStart, position));
      skipSpace();
      position++; // ':'
      const value = skipValue();
      if (key === name) { found = value; break; }
      skipSpace();
      if (text[position] !== ",") return null;
      position++;
    }
    span = found;
  }
  return span;
}

// TEXT (valid JSON) indented by two spaces; literals unchanged.
export function pretty(text) {
  let out = "";
  let depth = 0;
  const newline = () => "\n" + "  ".repeat(depth);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === "\\") j++;
        else if (text[j] === '"') break;
      }
      out += text.slice(i, j + 1);
      i = j;
    } else if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      let k = i + 1;
      while (/\s/.test(text[k] || "")) k++;
      if (text[k] === close) { out += c + close; i = k; continue; }
      depth++;
      out += c + newline();
    } else if (c === "}" || c === "]") {
      depth--;
      out += newline() + c;
    } else if (c === ",") {
      out += "," + newline();
    } else if (c === ":") {
      out += ": ";
    } else if (!/\s/.test(c)) {
      out += c;
    }
  }
  return out;
}
