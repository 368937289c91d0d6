package dev.ferry.provider.gcp;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/** Compute's list filter: {@code field = "value"}, {@code !=}, {@code eq} / {@code ne} (RE2). */
record ComputeListFilter(Map<String, String[]> terms) {
  private static final java.util.regex.Pattern TERM =
      java.util.regex.Pattern.compile(
          "\\(?\\s*([A-Za-z][A-Za-z0-9_.\\-]*)\\s*(=|!=|\\beq\\b|\\bne\\b)\\s*"
              + "(\"[^\"]*\"|[^\\s()\"]+)\\s*\\)?");

  static ComputeListFilter parse(String text) {
    Map<String, String[]> terms = new LinkedHashMap<>();
    String rest = text.trim();
    while (!rest.isEmpty()) {
      java.util.regex.Matcher m = TERM.matcher(rest);
      if (!m.lookingAt()) {
        throw new IllegalArgumentException("'" + text + "' is not a filter the fake knows");
      }
      String value = m.group(3);
      if (value.startsWith("\"")) {
        value = value.substring(1, value.length() - 1);
      }
      terms.put(m.group(1) + "#" + terms.size(), new String[] {m.group(2), value});
      rest = rest.substring(m.end()).trim();
      if (rest.startsWith("AND ")) {
        rest = rest.substring(4).trim();
      }
    }
    return new ComputeListFilter(terms);
  }

  boolean matches(JsonObject item) {
    for (Map.Entry<String, String[]> t : terms.entrySet()) {
      String path = t.getKey().substring(0, t.getKey().indexOf('#'));
      JsonElement v = item;
      for (String part : path.split("\\.")) {
        v = v != null && v.isJsonObject() ? v.getAsJsonObject().get(part) : null;
      }
      String have = v == null || !v.isJsonPrimitive() ? "" : v.getAsString();
      String op = t.getValue()[0];
      String want = t.getValue()[1];
      boolean hit =
          switch (op) {
            case "=", "!=" -> have.equals(want);
            default -> have.matches(want);
          };
      if (hit == (op.equals("!=") || op.equals("ne"))) {
        return false;
      }
    }
    return true;
  }
}
