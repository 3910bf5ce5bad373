package io.github.backprop4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A training run's state in one safetensors file: parameters {@code layerL.weight} [in, out] and
 * {@code layerL.bias} [out], optimizer slots {@code layerL.weight.optI} / {@code layerL.bias.optI},
 * and metadata (JSON strings) describing the network, optimizer, step, epochs done, seed,
 * normalization, data source, class names and the per-epoch history.
 */
final class Checkpoint {

    /** Written by this version: /1 plus the safetensors checksum, which /2 files must carry. */
    static final String FORMAT = "backprop4j-checkpoint/2";
    /** Read for compatibility: files from before checksums, validated structurally only. */
    static final String FORMAT_UNCHECKED = "backprop4j-checkpoint/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Everything a checkpoint holds, on the host. */
    record State(Network network, Optimizer optimizer, int batch, long seed, int epochsDone, long optimizerStep,
                 Data.Normalization normalization, ObjectNode source, List<String> classes, ArrayNode history,
                 float[][] weights, float[][] biases, float[][][] weightSlots, float[][][] biasSlots) {

        /** The parameters uploaded to {@code backend}. */
        Model model(Backend backend) {
            return Model.of(backend, network, weights, biases);
        }

        /** Restores optimizer slots, step and epochs done into a trainer built on {@link #model}. */
        void restore(Trainer trainer) {
            Backend b = trainer.model().backend();
            for (int l = 0; l < network.depth(); l++) {
                Optimizer.State ws = trainer.weightState(l), bs = trainer.biasState(l);
                for (int i = 0; i < ws.slotCount(); i++) b.upload(weightSlots[l][i], ws.slot(i));
                for (int i = 0; i < bs.slotCount(); i++) b.upload(biasSlots[l][i], bs.slot(i));
            }
            trainer.setOptimizerStep(optimizerStep);
            trainer.setEpochsDone(epochsDone);
        }
    }

    private Checkpoint() {
    }

    static void save(Path file, Trainer trainer, long seed, Data.Normalization normalization, ObjectNode source,
                     List<String> classes, ArrayNode history) throws IOException {
        Model model = trainer.model();
        Network net = model.network();
        Backend b = model.backend();
        Optimizer opt = trainer.weightState(0).optimizer();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("network", networkJson(net).toString());
        meta.put("optimizer", optimizerJson(opt).toString());
        meta.put("optimizer_step", Long.toString(trainer.optimizerStep()));
        meta.put("epochs_done", Integer.toString(trainer.epochsDone()));
        meta.put("seed", Long.toString(seed));
        meta.put("batch", Integer.toString(trainer.batchSize()));
        meta.put("normalization", normalization.toJson().toString());
        meta.put("data", source.toString());
        meta.put("classes", JSON.valueToTree(classes).toString());
        meta.put("history", history.toString());
        // each tensor is downloaded when its turn to be written comes: one on the host at a time
        Map<String, Safetensors.Source> tensors = new LinkedHashMap<>();
        for (int l = 0; l < net.depth(); l++) {
            int layer = l, in = net.fanIn(l), out = net.fanOut(l);
            tensors.put("layer" + l + ".weight", new Safetensors.Source(new int[]{in, out}, () -> model.downloadWeights(layer)));
            tensors.put("layer" + l + ".bias", new Safetensors.Source(new int[]{out}, () -> model.downloadBias(layer)));
        }
        for (int l = 0; l < net.depth(); l++) {
            int in = net.fanIn(l), out = net.fanOut(l);
            Optimizer.State ws = trainer.weightState(l), bs = trainer.biasState(l);
            for (int i = 0; i < ws.slotCount(); i++)
                tensors.put("layer" + l + ".weight.opt" + i, new Safetensors.Source(new int[]{in, out}, download(b, ws.slot(i))));
            for (int i = 0; i < bs.slotCount(); i++)
                tensors.put("layer" + l + ".bias.opt" + i, new Safetensors.Source(new int[]{out}, download(b, bs.slot(i))));
        }
        Safetensors.writeStreaming(file, meta, tensors);
    }

    private static java.util.function.Supplier<float[]> download(Backend b, io.github.backprop4j.core.Matrix m) {
        return () -> {
            float[] v = new float[(int) m.size()];
            b.download(m, v);
            return v;
        };
    }

    /** Bytes of the tensors a checkpoint of this network and optimizer holds (its size, less the header). */
    static long tensorBytes(Network net, Optimizer opt) {
        return 4 * (opt.slots() + 1) * net.parameterCount();
    }

    /** Floats in the checkpoint's largest tensor: the host buffer a save needs. */
    static long largestTensor(Network net) {
        long max = 0;
        for (int l = 0; l < net.depth(); l++) max = Math.max(max, (long) net.fanIn(l) * net.fanOut(l));
        return max;
    }

    /** Loads everything: parameters and optimizer state (to resume training). */
    static State load(Path file) {
        return load(file, true);
    }

    /**
     * Loads a checkpoint; without {@code optimizerState} the optimizer slots are checked (checksum,
     * shapes) but not kept (evaluation needs only the parameters). Tensors holding NaN or infinity
     * are refused, naming the tensor.
     */
    static State load(Path file, boolean optimizerState) {
        Safetensors.Contents c = Safetensors.read(file, name -> optimizerState || !name.contains(".opt"));
        String where = "checkpoint " + file + ": ";
        Map<String, String> meta = c.metadata();
        try {
            String format = meta.get("format");
            if (!FORMAT.equals(format) && !FORMAT_UNCHECKED.equals(format))
                throw new CliException(where + "not a backprop4j checkpoint (metadata format is "
                        + (format == null ? "missing" : "'" + format + "'") + ")");
            if (FORMAT.equals(format) && !c.verified())
                throw new CliException(where + "its " + Safetensors.CHECKSUM_KEY + " checksum is missing (the file is "
                        + "corrupted or was edited)");
            Network net = network(json(meta, "network", where));
            Optimizer opt = optimizer(json(meta, "optimizer", where));
            int batch = Integer.parseInt(required(meta, "batch", where));
            long seed = Long.parseLong(required(meta, "seed", where));
            int epochs = Integer.parseInt(required(meta, "epochs_done", where));
            long step = Long.parseLong(required(meta, "optimizer_step", where));
            if (batch < 1 || epochs < 0 || step < 0)
                throw new CliException(where + "bad metadata: batch " + batch + ", epochs_done " + epochs
                        + ", optimizer_step " + step + " (batch must be >= 1, the counts >= 0)");
            Data.Normalization norm = Data.Normalization.fromJson(json(meta, "normalization", where));
            if (!(json(meta, "data", where) instanceof ObjectNode source))
                throw new CliException(where + "bad metadata: 'data' is not a JSON object");
            List<String> classes = new ArrayList<>();
            JsonNode classNodes = json(meta, "classes", where);
            if (!classNodes.isArray()) throw new CliException(where + "bad metadata: 'classes' is not a JSON array");
            classNodes.forEach(n -> classes.add(n.asText()));
            if (classes.size() != net.outputs())
                throw new CliException(where + classes.size() + " class names for " + net.outputs() + " outputs");
            JsonNode historyNode = meta.containsKey("history") ? json(meta, "history", where) : JSON.createArrayNode();
            if (!(historyNode instanceof ArrayNode history))
                throw new CliException(where + "bad metadata: 'history' is not a JSON array");
            int depth = net.depth();
            float[][] w = new float[depth][], bias = new float[depth][];
            float[][][] ws = new float[depth][opt.slots()][], bs = new float[depth][opt.slots()][];
            for (int l = 0; l < depth; l++) {
                int in = net.fanIn(l), out = net.fanOut(l);
                w[l] = tensor(c, "layer" + l + ".weight", new int[]{in, out}, where);
                bias[l] = tensor(c, "layer" + l + ".bias", new int[]{out}, where);
                for (int i = 0; i < opt.slots(); i++) {
                    ws[l][i] = tensor(c, "layer" + l + ".weight.opt" + i, new int[]{in, out}, where);
                    bs[l][i] = tensor(c, "layer" + l + ".bias.opt" + i, new int[]{out}, where);
                }
            }
            int expectedTensors = 2 * depth * (1 + opt.slots());
            if (c.shapes().size() != expectedTensors)   // all expected ones are present (checked above): extras
                throw new CliException(where + c.shapes().size() + " tensors, but a " + depth + "-layer network with "
                        + opt.kind().name().toLowerCase(Locale.ROOT) + " state has " + expectedTensors);
            return new State(net, opt, batch, seed, epochs, step, norm, source, classes, history, w, bias, ws, bs);
        } catch (CliException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CliException(where + "bad metadata: " + Errors.describe(e), e);
        }
    }

    /** A tensor's data (null when it was not kept), after checking its shape and that every value is finite. */
    private static float[] tensor(Safetensors.Contents c, String name, int[] shape, String where) {
        int[] actual = c.shapes().get(name);
        if (actual == null) throw new CliException(where + "tensor " + name + " is missing");
        if (!java.util.Arrays.equals(actual, shape))
            throw new CliException(where + "tensor " + name + " has shape " + java.util.Arrays.toString(actual)
                    + " but the network needs " + java.util.Arrays.toString(shape));
        Safetensors.Tensor t = c.tensors().get(name);
        if (t == null) return null;
        float[] v = t.data();
        for (int i = 0; i < v.length; i++)
            if (!Float.isFinite(v[i]))
                throw new CliException(where + "tensor " + name + " holds " + v[i] + " at index " + i + " (" + count(v)
                        + " non-finite values): the run it saved had diverged or the file was edited; it cannot be used");
        return v;
    }

    private static int count(float[] v) {
        int n = 0;
        for (float x : v) if (!Float.isFinite(x)) n++;
        return n;
    }


    private static String required(Map<String, String> meta, String key, String where) {
        String v = meta.get(key);
        if (v == null) throw new CliException(where + "metadata has no '" + key + "'");
        return v;
    }

    private static JsonNode json(Map<String, String> meta, String key, String where) {
        try {
            return JSON.readTree(required(meta, key, where));
        } catch (JsonProcessingException e) {
            throw new CliException(where + "metadata '" + key + "' is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    static ObjectNode networkJson(Network net) {
        ObjectNode o = JSON.createObjectNode().put("inputs", net.inputs());
        ArrayNode layers = o.putArray("layers");
        for (Network.Layer l : net.layers())
            layers.addObject().put("units", l.units()).put("activation", l.activation().name().toLowerCase(Locale.ROOT));
        o.put("loss", net.loss().name().toLowerCase(Locale.ROOT));
        return o;
    }

    static Network network(JsonNode o) {
        List<Network.Layer> layers = new ArrayList<>();
        for (JsonNode l : o.path("layers"))
            layers.add(new Network.Layer(l.path("units").asInt(), Activation.parse(l.path("activation").asText())));
        return new Network(o.path("inputs").asInt(), layers, Loss.parse(o.path("loss").asText()));
    }

    static ObjectNode optimizerJson(Optimizer o) {
        return JSON.createObjectNode().put("kind", o.kind().name().toLowerCase(Locale.ROOT))
                .put("learning_rate", o.learningRate()).put("momentum", o.momentum()).put("beta1", o.beta1())
                .put("beta2", o.beta2()).put("epsilon", o.epsilon()).put("l2", o.l2())
                .put("weight_decay", o.decoupledDecay());
    }

    static Optimizer optimizer(JsonNode o) {
        return new Optimizer(Optimizer.parseKind(o.path("kind").asText()), o.path("learning_rate").floatValue(),
                o.path("momentum").floatValue(), o.path("beta1").floatValue(), o.path("beta2").floatValue(),
                o.path("epsilon").floatValue(), o.path("l2").floatValue(), o.path("weight_decay").floatValue());
    }
}
