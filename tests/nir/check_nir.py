"""Independent checks of the NIR files the library writes, with h5py and numpy only
(Python's nir package is not needed).

  check_nir.py structure FILE   the file's layout against NIR's: a root version, a node
                                group of type NIRGraph with its nodes and edges, each node's
                                type, parameter names, dtypes and shapes, the edges a chain
                                from Input to Output whose shapes agree
  check_nir.py simulate FOLDER  runs the graph in FOLDER/model.nir on FOLDER/images.npy with a
                                simulator of NIR's definitions in dialects.py (dt = 1, Euler
                                steps) and compares its predictions and every IF node's spike
                                counts with what the library's SNN branch computed
                                (tests/nir/nir_export.cpp)

  check_nir.py runtime TOOL FOLDER
                                runs FOLDER/model.nir with the library's runtime engine
                                (TOOL: snn2ann-nir) on the images and compares its
                                predictions and every spiking node's counts with the SNN
                                branch's

Exit status 0: the check passed; 1: it failed (the reasons printed); 77: h5py or numpy is
missing (ctest reports the test as skipped).
"""
import os
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # the test command installs python3-h5py and python3-numpy
    print(f"skipped: {e}")
    sys.exit(77)

PARAMETERS = {  # NIR's parameters of each node type the library writes: (name, dtype kind, rank or None)
    "Input": [("shape", "i", 1)],
    "Output": [("shape", "i", 1)],
    "Conv2d": [("weight", "f", 4), ("bias", "f", 1), ("stride", "i", 1), ("padding", "i", 1),
               ("dilation", "i", 1), ("groups", "i", 0), ("input_shape", "i", 1)],
    "AvgPool2d": [("kernel_size", "i", 1), ("stride", "i", 1), ("padding", "i", 1)],
    "Flatten": [("start_dim", "i", 0), ("end_dim", "i", 0)],
    "Affine": [("weight", "f", 2), ("bias", "f", 1)],
    "IF": [("r", "f", None), ("v_threshold", "f", None), ("v_reset", "f", None)],
    "LIF": [("tau", "f", None), ("r", "f", None), ("v_leak", "f", None), ("v_threshold", "f", None),
            ("v_reset", "f", None)],
}

failures = []


def fail(message):
    failures.append(message)
    print("FAIL:", message)


def text(dataset):
    value = dataset[()]
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def read_graph(path):
    """The nodes (name -> dict of parameters, 'type' included) and the chain from Input."""
    f = h5py.File(path, "r")
    if "version" not in f:
        fail("no /version")
    top = f["node"]
    nodes = {}
    for name, group in top["nodes"].items():
        nodes[name] = {}
        for key in group.keys():
            item = group[key]
            if isinstance(item, h5py.Group):  # NIR 1.0's input_type / output_type
                nodes[name][key] = {k: item[k][()] for k in item.keys()}
            else:
                nodes[name][key] = text(item) if key == "type" else item[()]
        nodes[name]["_datasets"] = {key: group[key] for key in group.keys() if isinstance(group[key], h5py.Dataset)}
        nodes[name]["_groups"] = {key for key in group.keys() if isinstance(group[key], h5py.Group)}
    edges = [(text_of(a), text_of(b)) for a, b in top["edges"][()]]
    return f, top, nodes, edges


def text_of(value):
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def chain(nodes, edges):
    starts = [n for n, v in nodes.items() if v["type"] == "Input"]
    if len(starts) != 1:
        fail(f"{len(starts)} Input nodes")
        return []
    successor = dict(edges)
    order, name = [], starts[0]
    while True:
        order.append(name)
        if nodes[name]["type"] == "Output":
            break
        if name not in successor:
            fail(f"the chain ends at {name}, not at an Output node")
            break
        name = successor[name]
    if len(order) != len(nodes):
        fail(f"the chain from Input reaches {len(order)} of {len(nodes)} nodes")
    return order


def conv_out(size, k, stride, pad):
    return (size + 2 * pad - k) // stride + 1


def check_structure(path):
    f, top, nodes, edges = read_graph(path)
    print(f"{path}: version {text(f['version'])}, {len(nodes)} nodes, {len(edges)} edges")
    if text(top["type"]) != "NIRGraph":
        fail("/node/type is not NIRGraph")
    if top["edges"].shape != (len(edges), 2) or top["edges"].dtype.kind not in "OS":
        fail(f"/node/edges is {top['edges'].dtype} {top['edges'].shape}, not an E x 2 array of strings")
    for name, node in nodes.items():
        kind = node["type"]
        if kind not in PARAMETERS:
            fail(f"node {name}: type {kind} is not one the library writes")
            continue
        expected = {p for p, _, _ in PARAMETERS[kind]} | {"type"}
        present = set(node["_datasets"])
        if present != expected:
            fail(f"node {name} ({kind}): data sets {sorted(present)}, NIR's are {sorted(expected)}")
        if node["_groups"] != {"input_type", "output_type"} or "input" not in node.get("input_type", {}) \
                or "output" not in node.get("output_type", {}):
            fail(f"node {name} ({kind}): groups {sorted(node['_groups'])}, NIR 1.0's input_type/input and "
                 f"output_type/output are needed (nir.read checks them)")
        for p, dtype_kind, rank in PARAMETERS[kind]:
            if p not in node["_datasets"]:
                continue
            d = node["_datasets"][p]
            if d.dtype.kind != dtype_kind:
                fail(f"node {name}.{p}: dtype {d.dtype}, expected kind {dtype_kind}")
            if rank is not None and d.ndim != rank:
                fail(f"node {name}.{p}: rank {d.ndim}, expected {rank}")
    meta = top["metadata"]
    if "dt" not in meta or float(meta["dt"][()]) != 1.0 or text(meta["time_unit"]) != "step":
        fail("/node/metadata does not say dt = 1 step")
    order = chain(nodes, edges)
    shape = None
    for name in order:
        node, kind = nodes[name], nodes[name]["type"]
        before = shape
        if kind != "Input" and tuple(int(v) for v in node["input_type"]["input"]) != before:
            fail(f"node {name}: input_type {node['input_type']['input']}, the node before gives {before}")
        if kind == "Input":
            shape = tuple(int(v) for v in node["shape"])
        elif kind == "Conv2d":
            w = node["weight"]
            if w.shape[1] != shape[0] or int(node["groups"]) != 1 or list(node["dilation"]) != [1, 1]:
                fail(f"node {name}: weight {w.shape} on input {shape}")
            if tuple(int(v) for v in node["input_shape"]) != shape[1:]:
                fail(f"node {name}: input_shape {node['input_shape']} for input {shape}")
            if node["bias"].shape != (w.shape[0],):
                fail(f"node {name}: bias {node['bias'].shape} for {w.shape[0]} channels")
            s, p = int(node["stride"][0]), int(node["padding"][0])
            shape = (w.shape[0], conv_out(shape[1], w.shape[2], s, p), conv_out(shape[2], w.shape[3], s, p))
        elif kind == "AvgPool2d":
            k, s = int(node["kernel_size"][0]), int(node["stride"][0])
            shape = (shape[0], conv_out(shape[1], k, s, 0), conv_out(shape[2], k, s, 0))
        elif kind == "Flatten":
            if int(node["start_dim"]) != 0 or int(node["end_dim"]) != -1:
                fail(f"node {name}: flattens dims {node['start_dim']}..{node['end_dim']}")
            shape = (int(np.prod(shape)),)
        elif kind == "Affine":
            w = node["weight"]
            if w.shape[1] != int(np.prod(shape)) or node["bias"].shape != (w.shape[0],):
                fail(f"node {name}: weight {w.shape}, bias {node['bias'].shape} on input {shape}")
            shape = (w.shape[0],)
        elif kind in ("IF", "LIF"):
            for p, _, _ in PARAMETERS[kind]:
                if node[p].shape != shape:
                    fail(f"node {name}.{p}: shape {node[p].shape}, the neurons are {shape}")
            if kind == "IF" and not (np.all(node["r"] == 1) and np.all(node["v_reset"] == 0)):
                fail(f"node {name}: r must be 1 and v_reset 0")
        elif kind == "Output":
            if tuple(int(v) for v in node["shape"]) != shape:
                fail(f"node {name}: shape {node['shape']}, the node before gives {shape}")
        if tuple(int(v) for v in node["output_type"]["output"]) != shape:
            fail(f"node {name}: output_type {node['output_type']['output']}, it gives {shape}")
        print(f"  {name:10s} {kind:10s} -> {shape}")
    return order


def simulate(nodes, edges, image, steps):
    """NIR's graph for `steps` steps of dt = 1 on a constant input, by the simulator of NIR's
    definitions in dialects.py: the output's mean over the steps, and each neuron node's
    spike counts."""
    from dialects import simulate as simulate_graph
    shape = tuple(int(d) for d in nodes[[n for n, v in nodes.items() if v["type"] == "Input"][0]]["shape"])
    outputs, _ = simulate_graph(nodes, edges, [image.reshape(shape)] * steps)
    output = [n for n, v in nodes.items() if v["type"] == "Output"][0]
    counts = {n: sum(outputs[n]) for n, v in nodes.items() if v["type"] in ("IF", "LIF")}
    return sum(outputs[output]) / steps, counts


def exported(folder):
    """What nir_export wrote: the file, its nodes, edges and chain order, T, the images and the SNN
    branch's predictions."""
    path = os.path.join(folder, "model.nir")
    f, top, nodes, edges = read_graph(path)
    order = chain(nodes, edges)
    steps = int(top["metadata"]["timesteps"][()])
    images = np.load(os.path.join(folder, "images.npy"))
    predicted = np.load(os.path.join(folder, "predicted.npy"))
    return path, nodes, edges, order, steps, images, predicted


def check_simulation(folder):
    path, nodes, edges, order, steps, images, predicted = exported(folder)
    scores = np.load(os.path.join(folder, "scores.npy")).reshape(len(predicted), -1)
    shape = tuple(int(d) for d in nodes[order[0]]["shape"])
    images = images.reshape((len(predicted),) + shape)
    ours = {}
    for name in order:
        if nodes[name]["type"] in ("IF", "LIF"):
            ours[name] = np.load(os.path.join(folder, f"counts_{name}.npy")).reshape((len(predicted),) + nodes[name]["v_threshold"].shape)
    agree, differing, neurons, worst = 0, 0, 0, 0.0
    for i, image in enumerate(images):
        out, counts = simulate(nodes, edges, image, steps)
        agree += int(np.argmax(out) == predicted[i])
        worst = max(worst, float(np.max(np.abs(out - scores[i]))))
        for name, c in counts.items():
            differing += int(np.sum(c != ours[name][i]))
            neurons += c.size
    print(f"{len(images)} images, T = {steps}: predictions agree on {agree}; spike counts differ at {differing} of "
          f"{neurons} neurons; largest score difference {worst:.3g}")
    if agree != len(images):
        fail(f"the simulator predicts differently on {len(images) - agree} images")
    if differing:
        fail(f"{differing} spike counts differ")


def check_runtime(tool, folder):
    """The file run by the library's runtime engine (snn2ann-nir, no network type): every
    spiking node's counts, neuron by neuron, and every prediction, as the SNN branch's."""
    import subprocess
    path, nodes, edges, order, steps, images, predicted = exported(folder)
    n = len(predicted)
    frames = os.path.join(folder, "runtime_frames.npy")
    np.save(frames, np.tile(images.reshape(1, n, -1), (steps, 1, 1)).astype(np.float32))
    spiking = [name for name in order if nodes[name]["type"] in ("IF", "LIF")]
    out = os.path.join(folder, "runtime")
    p = subprocess.run([tool, "run", path, "--frames", frames, "--record", ",".join(spiking), "--out", out],
                       capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{tool} exited with {p.returncode}: {p.stderr.strip()}")
        return
    scores = np.load(os.path.join(out, "output.npy")).reshape(steps, n, -1).mean(axis=0)
    agree = int(np.sum(np.argmax(scores, axis=1) == predicted))
    differing, neurons = 0, 0
    for name in spiking:
        ours = np.load(os.path.join(out, name + ".spikes.npy")).reshape(steps, n, -1).sum(axis=0)
        branch = np.load(os.path.join(folder, f"counts_{name}.npy")).reshape(n, -1)
        differing += int(np.sum(ours != branch))
        neurons += branch.size
    print(f"{n} images, T = {steps}: the runtime engine predicts as the SNN branch on {agree}; spike counts differ "
          f"at {differing} of {neurons} neurons")
    if agree != n:
        fail(f"the runtime engine predicts differently on {n - agree} images")
    if differing:
        fail(f"{differing} spike counts differ")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "runtime":
        check_runtime(sys.argv[2], sys.argv[3])
        sys.exit(1 if failures else 0)
    if len(sys.argv) != 3 or sys.argv[1] not in ("structure", "simulate"):
        print(__doc__)
        sys.exit(2)
    if sys.argv[1] == "structure":
        check_structure(sys.argv[2])
    else:
        check_simulation(sys.argv[2])
    sys.exit(1 if failures else 0)
