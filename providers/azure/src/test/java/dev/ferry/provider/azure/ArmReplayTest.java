package dev.ferry.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real ARM traffic, replayed against the fake: cloud-provider-azure's recordings of its load
 * balancer, public IP and NSG clients talking to Azure (written by {@code hack/arm-recordings.sh}
 * from the Go module proxy). Each request is sent to the fake as it was sent to Azure; the fake's
 * status code, the operation headers it sets and its body must be Azure's. Bodies are compared as
 * JSON trees once what differs by nature is masked: GUIDs, ETags, addresses Azure allocated. An
 * operation poll follows the fake's own {@code Azure-AsyncOperation} to its end.
 */
class ArmReplayTest {

  private static final Pattern GUID =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private final HttpClient http = HttpClient.newHttpClient();

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"LoadBalancer", "PublicIPAddress", "SecurityGroup"})
  void replay(String recording) throws Exception {
    JsonNode doc;
    try (InputStream in =
        getClass().getResourceAsStream("/arm-recordings/" + recording + ".json")) {
      doc = ArmFake.JSON.readTree(in);
    }
    List<String> differences = new ArrayList<>();
    int replayed = 0;
    try (ArmFake fake = new ArmFake()) {
      String async = null;
      for (JsonNode i : doc.path("interactions")) {
        JsonNode rq = i.path("request");
        JsonNode rs = i.path("response");
        URI recorded = URI.create(rq.path("url").asText());
        String path = recorded.getPath();
        if (!path.contains("/providers/")) {
          // the resource group's own calls (Microsoft.Resources), not the fake's API
          if (rq.path("method").asText().equals("PUT")) {
            String[] p = path.split("/");
            fake.group(p[2], p[4]);
          }
          continue;
        }
        HttpResponse<String> answer;
        String what = rq.path("method").asText() + " " + path;
        if (path.contains("/operations/")) {
          answer = null;
          for (int polls = 0; polls < 10 && async != null; polls++) {
            answer =
                http.send(
                    HttpRequest.newBuilder(URI.create(async)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (!answer.body().contains("InProgress")) {
              break;
            }
          }
          if (answer == null) {
            differences.add(what + ": the fake gave no operation to poll");
            continue;
          }
        } else {
          HttpRequest.Builder b =
              HttpRequest.newBuilder(
                      URI.create(
                          fake.endpoint() + path.substring(1) + "?api-version=" + Arm.API_VERSION))
                  .method(
                      rq.path("method").asText(),
                      rq.path("body").asText().isEmpty()
                          ? HttpRequest.BodyPublishers.noBody()
                          : HttpRequest.BodyPublishers.ofString(rq.path("body").asText()));
          String ifMatch = rq.path("headers").path("If-Match").asText(null);
          if (ifMatch != null) {
            // the recordings mask every ETag alike, so which one the client held shows only in
            // Azure's answer: the current one (the fake's) where Azure took it, a stale one where
            // Azure answered 412; any other value as sent
            boolean masked = GUID.matcher(ifMatch).find();
            b.header(
                "If-Match",
                !masked
                    ? ifMatch
                    : rs.path("code").asInt() == 412
                        ? "W/\"11111111-1111-1111-1111-111111111111\""
                        : etagOf(fake, path));
          }
          answer = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
          async = answer.headers().firstValue("Azure-AsyncOperation").orElse(async);
        }
        replayed++;
        if (answer.statusCode() != rs.path("code").asInt()) {
          differences.add(
              what
                  + ": status "
                  + answer.statusCode()
                  + ", Azure "
                  + rs.path("code").asInt()
                  + " "
                  + answer.body());
          continue;
        }
        for (String header : List.of("Azure-Asyncoperation", "Location", "Etag")) {
          boolean azure = rs.path("headers").has(header);
          boolean fakes = answer.headers().firstValue(header).isPresent();
          if (azure != fakes) {
            differences.add(
                what + ": header " + header + (azure ? " missing" : " not sent by Azure"));
          }
        }
        String expected = rs.path("body").asText();
        if (!expected.isEmpty() || !answer.body().isEmpty()) {
          JsonNode want = mask(ArmFake.JSON.readTree(expected.isEmpty() ? "null" : expected));
          JsonNode got =
              mask(ArmFake.JSON.readTree(answer.body().isEmpty() ? "null" : answer.body()));
          diff(what, "", want, got, differences);
        }
      }
    }
    System.out.printf(
        "ARM replay %s: %d requests replayed, %d differences%n",
        recording, replayed, differences.size());
    assertThat(replayed).isGreaterThan(8);
    assertThat(differences).isEmpty();
  }

  private static String etagOf(ArmFake fake, String path) {
    return fake.get(path).path("etag").asText();
  }

  private static JsonNode mask(JsonNode node) {
    if (node instanceof ObjectNode o) {
      for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        e.setValue(mask(e.getValue()));
      }
    } else if (node instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        a.set(i, mask(a.get(i)));
      }
    } else if (node.isTextual()) {
      String s = GUID.matcher(node.asText().toLowerCase()).replaceAll("<guid>");
      s = s.replaceAll("W/\"[^\"]*\"", "<etag>");
      return new TextNode(IPV4.matcher(s).matches() ? "<address>" : s);
    }
    return node;
  }

  private static void diff(String what, String at, JsonNode want, JsonNode got, List<String> out) {
    if (want.isObject() && got.isObject()) {
      want.fieldNames()
          .forEachRemaining(
              k -> {
                if (!got.has(k)) {
                  out.add(what + ": " + at + "/" + k + " missing (Azure: " + want.get(k) + ")");
                } else {
                  diff(what, at + "/" + k, want.get(k), got.get(k), out);
                }
              });
      got.fieldNames()
          .forEachRemaining(
              k -> {
                if (!want.has(k)) {
                  out.add(
                      what
                          + ": "
                          + at
                          + "/"
                          + k
                          + " not in Azure's answer (fake: "
                          + got.get(k)
                          + ")");
                }
              });
    } else if (want.isArray() && got.isArray() && want.size() == got.size()) {
      for (int i = 0; i < want.size(); i++) {
        diff(what, at + "[" + i + "]", want.get(i), got.get(i), out);
      }
    } else if (!want.equals(got)) {
      out.add(what + ": " + at + " is " + got + ", Azure " + want);
    }
  }
}
