package dev.ferry.provider.gcp;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import dev.ferry.provider.gcp.ComputeRules.Refusal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** How the Compute fake answers: resources as Compute prints them, errors in Compute's shape. */
final class ComputeAnswers {

  private ComputeAnswers() {}

  static boolean present(
      com.google.protobuf.MessageOrBuilder m, com.google.protobuf.Descriptors.FieldDescriptor f) {
    return f.isRepeated() ? m.getRepeatedFieldCount(f) > 0 : m.hasField(f);
  }

  static com.google.protobuf.Descriptors.FieldDescriptor field(Message.Builder b, String name) {
    return b.getDescriptorForType().findFieldByName(name);
  }

  static void set(Message.Builder b, String name, Object value) {
    var f = field(b, name);
    if (f != null) {
      b.setField(f, value);
    }
  }

  static String print(Message m) {
    try {
      return JsonFormat.printer().print(m);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  static void notFound(HttpExchange ex, String link) throws IOException {
    error(ex, new Refusal(404, "notFound", "The resource '" + link + "' was not found"));
  }

  static void send(HttpExchange ex, int status, Message m) throws IOException {
    sendJson(ex, status, print(m));
  }

  static void error(HttpExchange ex, Refusal r) throws IOException {
    JsonObject detail = new JsonObject();
    detail.addProperty("domain", "global");
    detail.addProperty("reason", r.reason());
    detail.addProperty("message", r.message());
    JsonArray errors = new JsonArray();
    errors.add(detail);
    JsonObject error = new JsonObject();
    error.addProperty("code", r.status());
    error.addProperty("message", r.message());
    error.add("errors", errors);
    JsonObject out = new JsonObject();
    out.add("error", error);
    sendJson(ex, r.status(), out.toString());
  }

  static void sendJson(HttpExchange ex, int status, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
  }
}
