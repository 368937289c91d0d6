package dev.ferry.controller;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.module.blackbird.BlackbirdModule;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** The Kubernetes clients Ferry talks to the API server with. */
final class KubeClients {

  /** The User-Agent of Ferry's requests. */
  static final String USER_AGENT = "ferry/" + ControllerProcess.VERSION;

  /**
   * What the clients run their informers' and watches' callbacks on (fabric8 hands each watch event
   * from the I/O thread to this executor, and each listener's callback again, in order): one
   * virtual thread per task. The default is a cached pool of platform threads behind a {@code
   * SynchronousQueue}, whose idle threads spin and park between tasks: the handoffs were about 4 %
   * of the controller's CPU in a burst of 1,000 new Services (ferry bench scale, profiled). A
   * virtual thread blocked in a callback (the lease's elector loop runs here too) holds no platform
   * thread.
   */
  private static final ExecutorService TASKS =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("ferry-client-", 0).factory());

  private KubeClients() {}

  /**
   * A client whose JSON mapping reaches the model's getters and setters through generated lambdas
   * (Jackson's Blackbird) instead of reflection: every watch event and response is read through it,
   * and under the image's C1-only JIT reflective access was a quarter of the controller's CPU in a
   * burst of 1,000 Services.
   */
  static KubernetesClient build(Config config) {
    // names Ferry in the API server's audit log and request metrics (the client's default names
    // only the library, like every other fabric8-based controller)
    config.setUserAgent(USER_AGENT);
    return new KubernetesClientBuilder()
        .withConfig(config)
        .withHttpClientFactory(new OpenSslClients())
        .withTaskExecutor(TASKS)
        .withKubernetesSerialization(serialization())
        .build();
  }

  /**
   * The JSON mapping of {@link #build}'s clients (see there and {@link WatchObjects}). Objects are
   * read without their {@code metadata.managedFields}: Ferry never reads them, and each field
   * manager's tree of fields became nested maps in every watch event and answer (a fifth of the
   * time to read a Service's event, measured with the image's compiler).
   */
  static KubernetesSerialization serialization() {
    ObjectMapper mapper = new ObjectMapper();
    KubernetesSerialization serialization = new KubernetesSerialization(mapper, true);
    // after fabric8's own modules: a module's bean modifiers run before those registered earlier,
    // so Blackbird replaces the plain properties before fabric8 wraps them
    mapper.registerModule(new BlackbirdModule());
    WatchObjects.register(mapper);
    mapper.addMixIn(ObjectMeta.class, WithoutManagedFields.class);
    return serialization;
  }

  @JsonIgnoreProperties({"managedFields"})
  private abstract static class WithoutManagedFields {}
}
