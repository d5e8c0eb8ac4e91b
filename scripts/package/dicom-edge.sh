#!/bin/sh
# /usr/bin/dicom-edge of the Debian package: every command finds the installed box's
# configuration unless told otherwise (--config, or DICOM_EDGE_CONFIG).
: "${DICOM_EDGE_CONFIG:=/etc/dicom-edge/dicom-edge.json}"
export DICOM_EDGE_CONFIG
exec /usr/lib/dicom-edge/bin/dicom-edge "$@"
