; SPDX-License-Identifier: GPL-2.0-or-later
; COM1 for the test disks (%include "com1.asm"): the port and one way of
; setting the UART up, so every program that the tests read through the
; serial log programs it the same.
COM1    equ 3F8h

; 115200 8N1 (divisor latch 1), FIFOs on and cleared. Clobbers AL and DX.
%macro com1_init 0
        mov dx, COM1 + 3
        mov al, 80h             ; DLAB: the next two ports are the divisor
        out dx, al
        mov dx, COM1
        mov al, 1
        out dx, al
        inc dx
        xor al, al
        out dx, al
        mov dx, COM1 + 3
        mov al, 03h             ; 8 data bits, no parity, 1 stop; DLAB off
        out dx, al
        mov dx, COM1 + 2
        mov al, 07h
        out dx, al
%endmacro

; The reporting routines of the boot test programs, as macros so each
; program places them where its layout has room:
;   print_si      the NUL-terminated string at SI to COM1 (SI ends past
;                 the NUL), each byte after a bounded wait for the
;                 transmitter; keeps AX, CX, DX.
;   print_inline  the string after the caller's CALL; returns past it.
%macro com1_print_routines 0
print_si:
        push ax
        push cx
        push dx
.next:  lodsb
        test al, al
        jz .done
        mov ah, al
        mov dx, COM1 + 5
        mov cx, 0FFFFh
.wait:  in al, dx                       ; bounded wait for the transmitter
        test al, 20h
        jnz .ready
        loop .wait
.ready: mov al, ah
        mov dx, COM1
        out dx, al
        jmp .next
.done:  pop dx
        pop cx
        pop ax
        ret

print_inline:
        pop si
        call print_si
        jmp si
%endmacro

; The counting programs' routines, the same way:
;   putc          AL to COM1, after a bounded wait for room in the
;                 transmitter; keeps every register.
;   puts          the NUL-terminated string at SI to COM1.
;   put_decimal   EAX in decimal to COM1; keeps every register.
%macro com1_decimal_routines 0
putc:
        push dx
        push cx
        push ax
        mov dx, COM1 + 5
        mov cx, 0FFFFh
.busy:  in al, dx
        test al, 20h
        jnz .ready
        loop .busy
.ready: pop ax
        mov dx, COM1
        out dx, al
        pop cx
        pop dx
        ret

puts:
        lodsb
        test al, al
        jz .done
        call putc
        jmp puts
.done:  ret

put_decimal:
        pushad
        mov ebx, 10
        xor cx, cx
.div:   xor edx, edx
        div ebx
        push dx
        inc cx
        test eax, eax
        jnz .div
.out:   pop ax
        add al, '0'
        call putc
        loop .out
        popad
        ret
%endmacro

; power_off: "Shutdown" to port 8900h, the APM shutdown port vsa-vm and
; QEMU decode (hw/apm_shutdown_port), then halt for good.
%macro power_off_routine 0
power_off:
        mov dx, 8900h
        mov si, %%text
.next:  lodsb
        test al, al
        jz .halt
        out dx, al
        jmp .next
.halt:  cli
        hlt
        jmp .halt
%%text: db "Shutdown", 0
%endmacro
