package dev.ferry.demo;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The fallback {@link EmbeddedApi} when no kube-apiserver binaries are cached: fabric8's mock
 * server in CRUD mode on loopback, plus the discovery documents kubectl asks for first, so {@code
 * kubectl apply/get/delete} work against it. It stores objects and serves watches; it does not
 * allocate ClusterIPs or NodePorts (Ferry fills the NodePorts) and does not validate. Demo
 * scaffolding: never part of the controller's jar or image.
 */
public final class EmbeddedApiServer implements EmbeddedApi {

  private final KubernetesMockServer server;

  private EmbeddedApiServer(KubernetesMockServer server) {
    this.server = server;
  }

  /** Starts on 127.0.0.1 at {@code port} (0 for any free port). */
  public static EmbeddedApiServer start(int port) {
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new DiscoveringDispatcher(),
            false);
    server.init(InetAddress.getLoopbackAddress(), port);
    return new EmbeddedApiServer(server);
  }

  @Override
  public String url() {
    return "http://127.0.0.1:" + server.getPort();
  }

  @Override
  public String kind() {
    return "mock API server (no validation; run hack/kube-binaries.sh once for a real one)";
  }

  /** A client of this server. */
  public KubernetesClient client() {
    Config config =
        new ConfigBuilder(Config.empty()).withMasterUrl(url()).withNamespace("default").build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /** Writes a kubeconfig for this server to {@code path} and returns the path. */
  public Path writeKubeconfig(Path path) throws IOException {
    String yaml =
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: ferry-embedded
          cluster:
            server: %s
        users:
        - name: ferry-embedded
          user: {}
        contexts:
        - name: ferry-embedded
          context:
            cluster: ferry-embedded
            user: ferry-embedded
            namespace: default
        current-context: ferry-embedded
        """
            .formatted(url());
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(path, yaml);
    return path.toAbsolutePath();
  }

  @Override
  public void close() {
    server.destroy();
  }

  /** CRUD, plus the discovery documents of the kinds the demo and Ferry use. */
  private static final class DiscoveringDispatcher extends KubernetesCrudDispatcher {

    private record Kind(
        String plural, String kind, boolean namespaced, boolean status, String shortName) {}

    private static final List<Kind> CORE =
        List.of(
            new Kind("services", "Service", true, true, "svc"),
            new Kind("nodes", "Node", false, true, "no"),
            new Kind("events", "Event", true, false, "ev"),
            new Kind("namespaces", "Namespace", false, true, "ns"),
            new Kind("pods", "Pod", true, true, "po"),
            new Kind("endpoints", "Endpoints", true, false, "ep"),
            new Kind("configmaps", "ConfigMap", true, false, "cm"),
            new Kind("secrets", "Secret", true, false, ""),
            new Kind("serviceaccounts", "ServiceAccount", true, false, "sa"));

    private static final Map<String, List<Kind>> GROUPS =
        Map.of(
            "coordination.k8s.io/v1", List.of(new Kind("leases", "Lease", true, false, "")),
            "discovery.k8s.io/v1",
                List.of(new Kind("endpointslices", "EndpointSlice", true, false, "")));

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      String path = request.getPath();
      int query = path.indexOf('?');
      String bare = query < 0 ? path : path.substring(0, query);
      String body =
          switch (bare) {
            case "/api" ->
                "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":[]}";
            case "/api/v1" -> resourceList("v1", CORE);
            case "/apis" -> groupList();
            default ->
                GROUPS.containsKey(bare.replaceFirst("^/apis/", "")) && bare.startsWith("/apis/")
                    ? resourceList(bare.substring(6), GROUPS.get(bare.substring(6)))
                    : null;
          };
      if ("/openapi/v3".equals(bare)) {
        body = openApiRoot();
      } else if (bare.startsWith("/openapi/v3/")) {
        body = openApiFor(bare.substring("/openapi/v3/".length()));
      }
      if (body == null && "GET".equals(request.getMethod()) && bare.startsWith("/openapi/")) {
        return new MockResponse()
            .setResponseCode(404)
            .setBody(
                "{\"kind\":\"Status\",\"status\":\"Failure\",\"code\":404,\"reason\":\"NotFound\"}");
      }
      if (body == null) {
        return super.dispatch(request);
      }
      return new MockResponse()
          .setResponseCode(200)
          .setHeader("Content-Type", "application/json")
          .setBody(body);
    }

    private static String resourceList(String groupVersion, List<Kind> kinds) {
      String resources =
          kinds.stream()
              .flatMap(
                  k -> {
                    String main =
                        "{\"name\":\"%s\",\"singularName\":\"\",\"namespaced\":%s,\"kind\":\"%s\",\"verbs\":[\"create\",\"delete\",\"get\",\"list\",\"patch\",\"update\",\"watch\"]%s}"
                            .formatted(
                                k.plural(),
                                k.namespaced(),
                                k.kind(),
                                k.shortName().isEmpty()
                                    ? ""
                                    : ",\"shortNames\":[\"" + k.shortName() + "\"]");
                    String status =
                        "{\"name\":\"%s/status\",\"singularName\":\"\",\"namespaced\":%s,\"kind\":\"%s\",\"verbs\":[\"get\",\"patch\",\"update\"]}"
                            .formatted(k.plural(), k.namespaced(), k.kind());
                    return k.status()
                        ? java.util.stream.Stream.of(main, status)
                        : java.util.stream.Stream.of(main);
                  })
              .collect(Collectors.joining(","));
      return "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"%s\",\"resources\":[%s]}"
          .formatted(groupVersion, resources);
    }

    /**
     * kubectl validates on the server when the OpenAPI v3 document shows a PATCH operation with the
     * {@code fieldValidation} parameter for the kind; this minimal document says so for every kind
     * served (this server does not validate; the controller reports what it cannot use).
     */
    private static String openApiRoot() {
      String paths =
          java.util.stream.Stream.concat(
                  java.util.stream.Stream.of("v1"), GROUPS.keySet().stream().sorted())
              .map(gv -> gv.equals("v1") ? "api/v1" : "apis/" + gv)
              .map(
                  p ->
                      "\"%s\":{\"serverRelativeURL\":\"/openapi/v3/%s?hash=ferry\"}"
                          .formatted(p, p))
              .collect(Collectors.joining(","));
      return "{\"paths\":{" + paths + "}}";
    }

    private static String openApiFor(String path) {
      String gv = path.equals("api/v1") ? "v1" : path.replaceFirst("^apis/", "");
      List<Kind> kinds = gv.equals("v1") ? CORE : GROUPS.get(gv);
      if (kinds == null) {
        return null;
      }
      String group = gv.contains("/") ? gv.substring(0, gv.indexOf('/')) : "";
      String version = gv.contains("/") ? gv.substring(gv.indexOf('/') + 1) : gv;
      String prefix = gv.equals("v1") ? "/api/v1" : "/apis/" + gv;
      String paths =
          kinds.stream()
              .map(
                  k ->
                      ("\"%s%s/%s/{name}\":{\"patch\":{\"x-kubernetes-group-version-kind\":{\"group\":\"%s\",\"version\":\"%s\",\"kind\":\"%s\"},"
                              + "\"parameters\":[{\"name\":\"fieldValidation\",\"in\":\"query\",\"schema\":{\"type\":\"string\"}}],\"responses\":{}}}")
                          .formatted(
                              prefix,
                              k.namespaced() ? "/namespaces/{namespace}" : "",
                              k.plural(),
                              group,
                              version,
                              k.kind()))
              .collect(Collectors.joining(","));
      return "{\"openapi\":\"3.0.0\",\"info\":{\"title\":\"Ferry embedded API\",\"version\":\"v1\"},\"paths\":{"
          + paths
          + "}}";
    }

    private static String groupList() {
      String groups =
          GROUPS.keySet().stream()
              .sorted()
              .map(
                  gv -> {
                    String group = gv.substring(0, gv.indexOf('/'));
                    String version = gv.substring(gv.indexOf('/') + 1);
                    return "{\"name\":\"%s\",\"versions\":[{\"groupVersion\":\"%s\",\"version\":\"%s\"}],\"preferredVersion\":{\"groupVersion\":\"%s\",\"version\":\"%s\"}}"
                        .formatted(group, gv, version, gv, version);
                  })
              .collect(Collectors.joining(","));
      return "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[" + groups + "]}";
    }
  }
}
