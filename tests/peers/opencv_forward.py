"""Peer for the tests: runs a Darknet cfg + weights with OpenCV's DNN module on a given
letterboxed input blob (NCHW float32 .npy) and saves the raw rows of its detection layers
(x, y, w, h relative to the network input, objectness, per-class scores) as .npy.
Usage: opencv_forward.py CFG WEIGHTS BLOB.npy OUT.npy"""
import sys

import cv2
import numpy as np

cfg, weights, blob_path, out_path = sys.argv[1:5]
net = cv2.dnn.readNetFromDarknet(cfg, weights)
net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
net.setInput(np.load(blob_path))
outs = net.forward(net.getUnconnectedOutLayersNames())
np.save(out_path, np.concatenate([o.reshape(-1, o.shape[-1]) for o in outs], axis=0).astype(np.float32))
