package dev.ferry.provider.azure;

import com.azure.json.JsonProviders;
import com.azure.json.JsonReader;
import com.azure.json.JsonSerializable;
import com.azure.json.JsonToken;
import com.azure.json.JsonWriter;
import dev.ferry.spi.ProviderException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** ARM's JSON: the SDK's models written and read, and the fields of its error answers. */
final class ArmJson {

  private ArmJson() {}

  /** A model as ARM takes it. */
  static byte[] json(JsonSerializable<?> model) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonWriter w = JsonProviders.createWriter(out)) {
      model.toJson(w);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** An ARM answer read into a model; unreadable JSON is a transient failure. */
  static <T> T parse(byte[] body, Arm.Model<T> model) throws ProviderException {
    try (JsonReader r = JsonProviders.createReader(body)) {
      return model.read(r);
    } catch (IOException e) {
      throw new ProviderException.Transient("ARM answered JSON Ferry cannot read: " + e, e);
    }
  }

  /** A deep copy of a model, through its own JSON. */
  static <T> T copy(JsonSerializable<?> model, Arm.Model<T> reader) {
    try {
      return parse(json(model), reader);
    } catch (ProviderException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The {@code error} object of an ARM error answer, or the whole body. */
  static byte[] errorObject(byte[] body) {
    String text = new String(body, StandardCharsets.UTF_8);
    int at = text.indexOf("\"error\"");
    if (at < 0) {
      return body;
    }
    int open = text.indexOf('{', at);
    return open < 0 ? body : text.substring(open).getBytes(StandardCharsets.UTF_8);
  }

  /** The {@code error.code} of an ARM error answer; "Unknown" when it has none. */
  static String errorCode(byte[] body) {
    String code = field(errorObject(body), "code");
    return code == null ? "Unknown" : code;
  }

  /** A top-level string field of a JSON object, or null. */
  static String field(byte[] body, String name) {
    try (JsonReader r = JsonProviders.createReader(body)) {
      if (r.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (r.nextToken() != JsonToken.END_OBJECT) {
        String key = r.getFieldName();
        r.nextToken();
        if (key.equals(name) && r.currentToken() == JsonToken.STRING) {
          return r.getString();
        }
        r.skipChildren();
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return null;
  }
}
