package dev.ferry.cluster;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.Release;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code helm install} for the README-commands test, where no helm binary can be had: Helm itself
 * (helm-java bundles it as a native library), behind a command line that takes the arguments the
 * shell produced from the README's line. A quoting mistake in the README therefore reaches Helm
 * exactly as it would from a terminal.
 */
public final class HelmShim {

  private HelmShim() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3 || !args[0].equals("install")) {
      System.err.println("helm (test shim): only 'helm install NAME CHART [flags]' is supported");
      System.exit(2);
    }
    InstallCommand install = new Helm(Path.of(args[2])).install().withName(args[1]);
    String kubeconfig = System.getenv("KUBECONFIG");
    if (kubeconfig != null) {
      install.withKubeConfigContents(Files.readString(Path.of(kubeconfig)));
    }
    for (int i = 3; i < args.length; i++) {
      switch (args[i]) {
        case "--namespace", "-n" -> install.withNamespace(args[++i]);
        case "--create-namespace" -> install.createNamespace();
        case "--values", "-f" -> install.withValuesFile(Path.of(args[++i]));
        case "--set" -> {
          String kv = args[++i];
          int eq = kv.indexOf('=');
          if (eq < 1) {
            System.err.println("Error: failed parsing --set data: key \"" + kv + "\" has no value");
            System.exit(1);
          }
          install.set(kv.substring(0, eq), kv.substring(eq + 1));
        }
        default -> {
          System.err.println("helm (test shim): unknown flag " + args[i]);
          System.exit(2);
        }
      }
    }
    try {
      Release r = install.call();
      System.out.printf(
          "NAME: %s%nNAMESPACE: %s%nSTATUS: %s%n", r.getName(), r.getNamespace(), r.getStatus());
    } catch (RuntimeException e) {
      System.err.println("Error: INSTALLATION FAILED: " + e.getMessage());
      System.exit(1);
    }
  }
}
