package dev.ferry.controller;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.JsonParserSequence;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.internal.KubernetesDeserializer;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reads the object of a watch event once. The model's own reading of {@code WatchEvent.object}
 * builds a JSON tree to learn the kind, then reads the object again from the tree: every Service
 * and Node event, twice. The API server writes {@code kind} and {@code apiVersion} first, so for a
 * kind the model knows this reads those two fields and goes on with the kind's own reader from
 * where it stands; an unknown kind, or another field order, takes the model's way.
 */
final class WatchObjects extends JsonDeserializer<KubernetesResource> {

  /** Makes {@code mapper} read watch events' objects this way. */
  static void register(ObjectMapper mapper) {
    mapper.addMixIn(WatchEvent.class, Mixin.class);
  }

  private abstract static class Mixin {
    @JsonDeserialize(using = WatchObjects.class)
    Object object;

    @JsonDeserialize(using = WatchObjects.class)
    abstract void setObject(Object object);
  }

  private final KubernetesDeserializer model = new KubernetesDeserializer();

  /**
   * Each kind's reader, as the mapper hands it out for a root value. Looking it up contextualizes
   * it again every time (its annotations and formats are introspected anew), which is why the
   * mapper keeps its own root readers; this instance belongs to one mapper, and so does its cache.
   */
  private final Map<Class<?>, JsonDeserializer<Object>> readers = new ConcurrentHashMap<>();

  /** Objects read in one pass, for the tests: that the short way is taken is not visible else. */
  static final LongAdder onePass = new LongAdder();

  @Override
  public KubernetesResource deserialize(JsonParser p, DeserializationContext ctxt)
      throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      return model.deserialize(p, ctxt);
    }
    TokenBuffer read = ctxt.bufferForInputBuffering(p);
    read.writeStartObject();
    String kind = null;
    String apiVersion = null;
    boolean ended = false;
    while (kind == null || apiVersion == null) {
      JsonToken t = p.nextToken();
      if (t == JsonToken.END_OBJECT) {
        read.writeEndObject();
        ended = true;
        break;
      }
      String field = p.currentName();
      read.writeFieldName(field);
      if (!"kind".equals(field) && !"apiVersion".equals(field)) {
        break; // another field first: the rest goes to the model's reader, which looks it all up
      }
      p.nextToken();
      read.copyCurrentStructure(p);
      if (p.currentToken() != JsonToken.VALUE_STRING) {
        break;
      }
      if ("kind".equals(field)) {
        kind = p.getText();
      } else {
        apiVersion = p.getText();
      }
    }
    JsonParser whole =
        ended ? read.asParser(p) : JsonParserSequence.createFlattened(false, read.asParser(p), p);
    whole.nextToken(); // the object's start
    Class<? extends KubernetesResource> type =
        kind == null || apiVersion == null ? null : model.getRegisteredKind(apiVersion, kind);
    if (type == null) {
      return model.deserialize(whole, ctxt);
    }
    onePass.increment();
    JsonDeserializer<Object> reader = readers.get(type);
    if (reader == null) {
      reader = ctxt.findRootValueDeserializer(ctxt.constructType(type));
      readers.put(type, reader);
    }
    return (KubernetesResource) reader.deserialize(whole, ctxt);
  }
}
