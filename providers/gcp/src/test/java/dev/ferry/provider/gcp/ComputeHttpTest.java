package dev.ferry.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The fake answers as Compute does, and refuses what Compute refuses: each rule below names the
 * page (or the discovery document's field) that documents it. Requests are sent as raw JSON, so the
 * fake is tested apart from any client's idea of the API, and once through the vendor's own client.
 */
abstract class ComputeHttpTest {

  static final String P = GkeProject.PROJECT;
  static final String R = GkeProject.REGION;
  static final String REGION = "/compute/v1/projects/" + P + "/regions/" + R;
  static final String GLOBAL = "/compute/v1/projects/" + P + "/global";
  static final String NET = ComputeFake.GOOGLEAPIS + GkeProject.networkLink();
  static final String SUBNET =
      ComputeFake.GOOGLEAPIS
          + "projects/"
          + P
          + "/regions/"
          + R
          + "/subnetworks/"
          + GkeProject.SUBNET;

  private final HttpClient http = HttpClient.newHttpClient();
  ComputeFake fake;

  record Answer(int status, JsonObject body) {
    String text() {
      return body.toString();
    }

    /** An operation's error code, or the error's reason. */
    String code() {
      if (body.has("error") && body.getAsJsonObject("error").has("errors")) {
        JsonObject e =
            body.getAsJsonObject("error").getAsJsonArray("errors").get(0).getAsJsonObject();
        return e.has("code") ? e.get("code").getAsString() : e.get("reason").getAsString();
      }
      return "";
    }
  }

  @BeforeEach
  void start() throws Exception {
    fake = new ComputeFake();
    GkeProject.seed(fake, 3);
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  Answer call(String method, String path, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fake.endpoint() + path));
    b.method(
        method,
        json == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(json));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), JsonParser.parseString(r.body()).getAsJsonObject());
  }

  /** Polls an operation until DONE; answers it. */
  Answer done(Answer op) throws Exception {
    assertThat(op.status()).as(op.text()).isEqualTo(200);
    Answer now = op;
    for (int i = 0; i < 20 && !now.body().get("status").getAsString().equals("DONE"); i++) {
      String self = now.body().get("selfLink").getAsString();
      now = call("GET", "/compute/v1/" + self.substring(ComputeFake.GOOGLEAPIS.length()), null);
    }
    return now;
  }

  Answer insert(String collectionPath, String json) throws Exception {
    Answer a = call("POST", collectionPath, json);
    return a.status() == 200 ? done(a) : a;
  }

  String healthCheck(String name) throws Exception {
    assertThat(
            insert(
                    REGION + "/healthChecks",
                    "{\"name\":\""
                        + name
                        + "\",\"type\":\"TCP\",\"tcpHealthCheck\":{\"port\":10256}}")
                .body()
                .has("error"))
        .isFalse();
    return ComputeFake.GOOGLEAPIS + "projects/" + P + "/regions/" + R + "/healthChecks/" + name;
  }

  String backendService(String name, String scheme, String protocol) throws Exception {
    String check = healthCheck(name + "-hc");
    String network = scheme.equals("INTERNAL") ? ",\"network\":\"" + NET + "\"" : "";
    Answer a =
        insert(
            REGION + "/backendServices",
            "{\"name\":\""
                + name
                + "\",\"protocol\":\""
                + protocol
                + "\",\"loadBalancingScheme\":\""
                + scheme
                + "\",\"healthChecks\":[\""
                + check
                + "\"]"
                + network
                + "}");
    assertThat(a.body().has("error")).as(a.text()).isFalse();
    return ComputeFake.GOOGLEAPIS + "projects/" + P + "/regions/" + R + "/backendServices/" + name;
  }
}
