package dev.ferry.controller;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.internal.OperationSupport;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Ferry's writes, straight through the client's HTTP layer (its authentication, retries and
 * timeout). The client's typed operations cost more than the request on this path: a patch through
 * {@code resource(service)} first copies the whole Service by a JSON round trip and parses the
 * patch text back into a tree, and an Event's answer would be parsed into a model object nobody
 * reads.
 */
final class ApiWrites {

  private final HttpClient http;
  private final KubernetesSerialization json;
  private final String apiRoot;
  private final int timeoutMillis;

  ApiWrites(KubernetesClient client) {
    this.http = client.getHttpClient();
    this.json = client.getKubernetesSerialization();
    String master = client.getMasterUrl().toString();
    this.apiRoot = master.endsWith("/") ? master : master + "/";
    int timeout = client.getConfiguration().getRequestTimeout();
    this.timeoutMillis = timeout > 0 ? timeout : 10_000;
    Deadlines.start();
  }

  KubernetesSerialization json() {
    return json;
  }

  /**
   * Sends {@code body} as JSON to {@code path} (under the API root, e.g. {@code
   * api/v1/namespaces/ns/events}) and answers the response, whatever its status; a request that
   * could not be sent or answered within the client's request timeout is a {@link
   * KubernetesClientException} without a code.
   *
   * <p>The wait is bounded here rather than by a timeout on the request: the client's own timeout
   * schedules a timer per request and cancels it on the answer, which throws (and fills in) three
   * exceptions per write on the I/O thread. The bound is on {@link Deadlines}' wheel.
   */
  HttpResponse<String> send(String method, String path, String contentType, Object body) {
    HttpRequest request =
        http.newHttpRequestBuilder()
            .uri(apiRoot + path)
            .method(method, contentType, json.asJson(body))
            .build();
    CompletableFuture<HttpResponse<String>> answer = http.sendAsync(request, String.class);
    try {
      return Deadlines.get(answer, timeoutMillis);
    } catch (InterruptedException e) {
      answer.cancel(true);
      Thread.currentThread().interrupt();
      throw OperationSupport.requestException(request, e);
    } catch (ExecutionException e) {
      throw OperationSupport.requestException(request, e.getCause() instanceof Exception c ? c : e);
    } catch (TimeoutException e) {
      answer.cancel(true); // a late answer is released, not read
      throw OperationSupport.requestException(request, e);
    }
  }

  /** The response's body, or the API server's refusal as the client reports it (with its code). */
  String bodyOf(HttpResponse<String> response) {
    if (!response.isSuccessful()) {
      throw OperationSupport.requestFailure(
          response.request(), OperationSupport.createStatus(response, json));
    }
    return response.body();
  }
}
