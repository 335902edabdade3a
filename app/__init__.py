"""Conv Explorer: a visual explorer of the SimpleConvNet of Deep Learning from Scratch, ch. 7."""
