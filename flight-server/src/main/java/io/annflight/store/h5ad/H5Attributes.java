package io.annflight.store.h5ad;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.annflight.store.container.Attributes;
import io.jhdf.api.Attribute;
import io.jhdf.api.Node;
import io.jhdf.object.datatype.Reference;
import java.lang.reflect.Array;
import java.math.BigInteger;
import java.util.Map;

/**
 * HDF5 attributes as JSON: strings, numbers and booleans (h5py's numpy bool is an enum jhdf
 * reads as its name) and arrays of them; an empty attribute is an empty list (h5py writes an
 * empty {@code column-order} as float64 []); an object reference is the absolute path of what
 * it references.
 */
final class H5Attributes {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private H5Attributes() {}

  static Attributes of(H5File file, String path, Node node) {
    ObjectNode out = JSON.objectNode();
    Map<String, Attribute> attrs = file.guard(path, "the attributes", node::getAttributes);
    for (Map.Entry<String, Attribute> e : attrs.entrySet()) {
      String name = e.getKey();
      Attribute attr = e.getValue();
      out.set(name, file.guard(path, "attribute '" + name + "'", () -> value(file, path, attr)));
    }
    return new Attributes(file.path(), path, out);
  }

  private static JsonNode value(H5File file, String owner, Attribute attr) {
    if (attr.isEmpty()) {
      return JSON.arrayNode();
    }
    Object data = attr.getData();
    if (attr.getDataType() instanceof Reference) {
      return reference(file, owner, data);
    }
    return convert(data);
  }

  /**
   * The path of the node a reference points at. jhdf resolves a reference to a node that does
   * not know its path, so the path is found by address: first among the owner's siblings'
   * {@code __categories} (where anndata 0.7 put what its references point at), then in the
   * whole file, visiting at most {@link #MAX_VISITED} nodes.
   */
  private static JsonNode reference(H5File file, String owner, Object data) {
    Object one = data.getClass().isArray() && Array.getLength(data) == 1 ? Array.get(data, 0)
        : data;
    if (!(one instanceof Number address)) {
      return JSON.nullNode();
    }
    long target = address.longValue();
    int slash = owner.lastIndexOf('/');
    String parent = slash < 0 ? "" : owner.substring(0, slash);
    String near = parent.isEmpty() ? "__categories" : parent + "/__categories";
    String found = file.find(near).map(n -> search(n, near, target, new int[1])).orElse(null);
    if (found == null) {
      found = search(file.hdf(), "", target, new int[1]);
    }
    return found == null ? JSON.nullNode() : JSON.textNode("/" + found);
  }

  private static final int MAX_VISITED = 100_000;

  private static String search(Node node, String path, long address, int[] visited) {
    if (++visited[0] > MAX_VISITED) {
      return null;
    }
    if (node.getAddress() == address) {
      return path;
    }
    if (node instanceof io.jhdf.api.Group g) {
      for (Map.Entry<String, Node> e : g.getChildren().entrySet()) {
        if (e.getValue() instanceof io.jhdf.api.Link) {
          continue;
        }
        String p = path.isEmpty() ? e.getKey() : path + "/" + e.getKey();
        String hit = search(e.getValue(), p, address, visited);
        if (hit != null) {
          return hit;
        }
      }
    }
    return null;
  }

  private static JsonNode convert(Object v) {
    if (v == null) {
      return JSON.nullNode();
    }
    if (v instanceof String s) {
      return JSON.textNode(s);
    }
    if (v instanceof Boolean b) {
      return JSON.booleanNode(b);
    }
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return JSON.numberNode(((Number) v).intValue());
    }
    if (v instanceof Long l) {
      return JSON.numberNode(l);
    }
    if (v instanceof BigInteger b) {
      return JSON.numberNode(b);
    }
    if (v instanceof Float f) {
      return JSON.numberNode(f.doubleValue());
    }
    if (v instanceof Double d) {
      return JSON.numberNode(d);
    }
    if (v.getClass().isArray()) {
      ArrayNode a = JSON.arrayNode();
      int n = Array.getLength(v);
      for (int i = 0; i < n; i++) {
        a.add(convert(Array.get(v, i)));
      }
      return a;
    }
    return JSON.textNode(v.toString());
  }
}
