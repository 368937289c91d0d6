package dev.ferry.provider.gcp;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Google's published description of the Compute Engine v1 API (the discovery document, committed as
 * {@code compute-v1-discovery.json}; its {@code revision} is {@link #revision()}; made by {@code
 * hack/compute-discovery.sh}). The fake finds each request's method by its HTTP method and path here
 * and checks its body against the method's request schema, so the fake accepts what Google
 * describes, not what Ferry happens to send:
 *
 * <ul>
 *   <li>a field the schema does not have: 400, as Compute answers ({@code Unknown name});
 *   <li>a value of the wrong JSON type, an {@code int32} out of range, an {@code enum} value not
 *       listed, a {@code name} not matching its {@code pattern}, a port not matching the {@code
 *       @pattern} its description gives;
 *   <li>an {@code [Output Only]} field sent on insert, a field a method requires left out
 *       ({@code annotations.required}).
 * </ul>
 */
final class ComputeDiscovery {

  /** A method of the API: its id (e.g. {@code compute.forwardingRules.insert}) and parameters. */
  record Method(
      String id, String resource, String verb, String requestSchema, Map<String, String> params) {
    String param(String name) {
      return params.get(name);
    }
  }

  private record Route(String httpMethod, Pattern path, List<String> names, JsonObject method) {}

  private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\+?([A-Za-z]+)}");
  private static final Pattern ITEM_PATTERN = Pattern.compile("@pattern: (\\S+)");

  private final JsonObject doc;
  private final JsonObject schemas;
  private final List<Route> routes = new ArrayList<>();

  private static volatile ComputeDiscovery loaded;

  static ComputeDiscovery get() {
    ComputeDiscovery d = loaded;
    if (d == null) {
      try (InputStream in =
          ComputeDiscovery.class.getResourceAsStream("/compute-v1-discovery.json")) {
        d =
            new ComputeDiscovery(
                JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8))
                    .getAsJsonObject());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      loaded = d;
    }
    return d;
  }

  private ComputeDiscovery(JsonObject doc) {
    this.doc = doc;
    this.schemas = doc.getAsJsonObject("schemas");
    for (Map.Entry<String, JsonElement> r : doc.getAsJsonObject("resources").entrySet()) {
      for (Map.Entry<String, JsonElement> m :
          r.getValue().getAsJsonObject().getAsJsonObject("methods").entrySet()) {
        JsonObject method = m.getValue().getAsJsonObject();
        String path = doc.get("servicePath").getAsString() + method.get("path").getAsString();
        List<String> names = new ArrayList<>();
        Matcher p = PLACEHOLDER.matcher(path);
        StringBuilder regex = new StringBuilder("/");
        int at = 0;
        while (p.find()) {
          regex.append(Pattern.quote(path.substring(at, p.start()))).append("([^/]+)");
          names.add(p.group(1));
          at = p.end();
        }
        regex.append(Pattern.quote(path.substring(at)));
        routes.add(
            new Route(
                method.get("httpMethod").getAsString(),
                Pattern.compile(regex.toString()),
                names,
                method));
      }
    }
  }

  /** The document's revision, e.g. {@code 20261106}. */
  String revision() {
    return doc.get("revision").getAsString();
  }

  /** The method a request is for, with its path parameters, or empty when the API has none. */
  Optional<Method> method(String httpMethod, String path) {
    for (Route r : routes) {
      Matcher m = r.path().matcher(path);
      if (r.httpMethod().equals(httpMethod) && m.matches()) {
        Map<String, String> params = new java.util.HashMap<>();
        for (int i = 0; i < r.names().size(); i++) {
          params.put(r.names().get(i), m.group(i + 1));
        }
        String id = r.method().get("id").getAsString();
        String[] parts = id.split("\\.");
        JsonObject request = r.method().getAsJsonObject("request");
        return Optional.of(
            new Method(
                id,
                parts[1],
                parts[2],
                request == null ? null : request.get("$ref").getAsString(),
                Map.copyOf(params)));
      }
    }
    return Optional.empty();
  }

  /**
   * What is wrong with {@code body} as {@code method}'s request, in Compute's words, or null.
   *
   * @param insert whether output-only fields are refused (an insert makes a resource; an update
   *     sends a resource read before, whose output-only fields the caller compares itself)
   */
  String invalid(Method method, JsonElement body, boolean insert) {
    if (method.requestSchema() == null) {
      return null;
    }
    List<String> problems = new ArrayList<>();
    check(method.requestSchema(), body, "resource", method.id(), insert, problems);
    return problems.isEmpty() ? null : problems.get(0);
  }

  /** The names of {@code schema}'s output-only fields. */
  List<String> outputOnly(String schema) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, JsonElement> p : properties(schema).entrySet()) {
      if (isOutputOnly(p.getValue().getAsJsonObject())) {
        out.add(p.getKey());
      }
    }
    return out;
  }

  /**
   * Whether the schema documents {@code field} as set only through the {@code setLabels} method.
   */
  boolean onlyThroughSetLabels(String schema, String field) {
    JsonObject p = properties(schema).getAsJsonObject(field);
    return p != null
        && p.has("description")
        && p.get("description").getAsString().contains("only be added or modified by the");
  }

  private JsonObject properties(String schema) {
    return schemas.getAsJsonObject(schema).getAsJsonObject("properties");
  }

  private static boolean isOutputOnly(JsonObject property) {
    String d = property.has("description") ? property.get("description").getAsString() : "";
    return d.startsWith("[Output Only]") || d.startsWith("Output only.");
  }

  private void check(
      String schema,
      JsonElement value,
      String at,
      String methodId,
      boolean insert,
      List<String> problems) {
    checkObject(schemas.getAsJsonObject(schema), value, at, methodId, insert, problems);
  }

  /** An object against a schema, named or inline (an array's items may be either). */
  private void checkObject(
      JsonObject schema,
      JsonElement value,
      String at,
      String methodId,
      boolean insert,
      List<String> problems) {
    if (!value.isJsonObject()) {
      problems.add("Invalid JSON payload received. Expected an object for '" + at + "'.");
      return;
    }
    JsonObject props = schema.getAsJsonObject("properties");
    for (Map.Entry<String, JsonElement> f : value.getAsJsonObject().entrySet()) {
      JsonObject p = props.getAsJsonObject(f.getKey());
      if (p == null) {
        problems.add(
            "Invalid JSON payload received. Unknown name \""
                + f.getKey()
                + "\" at '"
                + at
                + "': Cannot find field.");
        continue;
      }
      String field = at + "." + f.getKey();
      if (insert && isOutputOnly(p)) {
        problems.add(
            "Invalid value for field '"
                + field
                + "': the field is output only and cannot be set on insert.");
        continue;
      }
      property(p, f.getValue(), field, methodId, insert, problems);
    }
    for (Map.Entry<String, JsonElement> p : props.entrySet()) {
      JsonObject ann = p.getValue().getAsJsonObject().getAsJsonObject("annotations");
      if (ann != null
          && ann.getAsJsonArray("required").contains(new JsonPrimitive(methodId))
          && !value.getAsJsonObject().has(p.getKey())) {
        problems.add("Required field '" + at + "." + p.getKey() + "' not specified");
      }
    }
  }

  private void property(
      JsonObject p,
      JsonElement v,
      String at,
      String methodId,
      boolean insert,
      List<String> problems) {
    if (p.has("$ref")) {
      check(p.get("$ref").getAsString(), v, at, methodId, insert, problems);
      return;
    }
    String type = p.get("type").getAsString();
    switch (type) {
      case "string" -> {
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
          problems.add(invalidValue(at, v, "expected a string"));
          return;
        }
        String s = v.getAsString();
        if (p.has("enum") && !p.getAsJsonArray("enum").contains(new JsonPrimitive(s))) {
          problems.add(invalidValue(at, v, "must be one of " + p.getAsJsonArray("enum")));
        }
        if (p.has("pattern") && !s.matches(p.get("pattern").getAsString())) {
          problems.add(
              invalidValue(at, v, "must match regular expression '" + p.get("pattern") + "'"));
        }
        String format = p.has("format") ? p.get("format").getAsString() : "";
        if ((format.equals("int64") || format.equals("uint64")) && !s.matches("-?\\d+")) {
          problems.add(invalidValue(at, v, "expected a 64-bit integer"));
        }
      }
      case "integer" -> {
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
          problems.add(invalidValue(at, v, "expected an integer"));
          return;
        }
        double d = v.getAsDouble();
        if (d != Math.rint(d) || d < Integer.MIN_VALUE || d > Integer.MAX_VALUE) {
          problems.add(invalidValue(at, v, "expected an int32"));
        }
      }
      case "number" -> {
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
          problems.add(invalidValue(at, v, "expected a number"));
        }
      }
      case "boolean" -> {
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isBoolean()) {
          problems.add(invalidValue(at, v, "expected a boolean"));
        }
      }
      case "array" -> {
        if (!v.isJsonArray()) {
          problems.add(invalidValue(at, v, "expected a list"));
          return;
        }
        JsonObject items = p.getAsJsonObject("items");
        Matcher itemPattern =
            ITEM_PATTERN.matcher(p.has("description") ? p.get("description").getAsString() : "");
        JsonArray a = v.getAsJsonArray();
        for (int i = 0; i < a.size(); i++) {
          String item = at + "[" + i + "]";
          property(items, a.get(i), item, methodId, insert, problems);
          if (itemPattern.find(0)
              && a.get(i).isJsonPrimitive()
              && !a.get(i).getAsString().matches(itemPattern.group(1).replace("\\\\", "\\"))) {
            problems.add(invalidValue(item, a.get(i), "must match '" + itemPattern.group(1) + "'"));
          }
        }
      }
      case "object" -> {
        if (!v.isJsonObject()) {
          problems.add(invalidValue(at, v, "expected a map"));
          return;
        }
        if (p.has("properties")) {
          checkObject(p, v, at, methodId, insert, problems);
          return;
        }
        JsonObject values = p.getAsJsonObject("additionalProperties");
        for (Map.Entry<String, JsonElement> e : v.getAsJsonObject().entrySet()) {
          property(values, e.getValue(), at + "." + e.getKey(), methodId, insert, problems);
        }
      }
      default -> problems.add(invalidValue(at, v, "unknown type " + type));
    }
  }

  private static String invalidValue(String at, JsonElement v, String why) {
    return "Invalid value for field '" + at + "': " + v + ". " + why;
  }
}
